package blocks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// The router hands a click to the longest registered prefix of its action
// id, so two features' action ids must neither repeat nor be a prefix of
// one another: the shorter one would silently take the other's clicks.
func TestActionIDsAreDistinct(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "actions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // value -> constant
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Action") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				if other, dup := ids[v]; dup {
					t.Errorf("%s and %s are both %q", name.Name, other, v)
				}
				ids[v] = name.Name
			}
		}
	}
	if len(ids) < 10 {
		t.Fatalf("found only %d action ids in actions.go", len(ids))
	}
	for a, na := range ids {
		for b, nb := range ids {
			if a != b && strings.HasPrefix(b, a) {
				t.Errorf("%s (%q) is a prefix of %s (%q)", na, a, nb, b)
			}
		}
	}
}
