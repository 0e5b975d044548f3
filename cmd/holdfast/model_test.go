package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast/holdfast/store/storetest"
)

// The history and model commands through the binary's own entry point:
// a bad import stores nothing and says where, a fit on too little history
// is refused with what is missing, usage mistakes exit 2.
func TestCLIImportHistoryAndModel(t *testing.T) {
	t.Parallel()
	schema := storetest.NewSchema(t)
	env := map[string]string{"DATABASE_URL": schema.DatabaseURL, "HOLDFAST_OPERATOR": "dana"}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	accounts := write("accounts.csv", "external_id,name,activation_date,churned_at,trait:plan,trait:seats:widget\n"+
		"a1,Alpha,2026-01-01,2026-06-01,pro,3\n")
	signals := write("signals.csv", "account,kind,source,occurred_at,value\na1,usage,p,2026-07-01,5\n")
	code, _, errOut := runCLI(t, env, "import", "history", accounts, signals)
	if code != 1 || !strings.Contains(errOut, `unknown trait type "widget"`) || !strings.Contains(errOut, "nothing was imported") {
		t.Fatalf("bad type: %d %q", code, errOut)
	}
	accounts = write("accounts.csv", "external_id,name,activation_date,churned_at,trait:plan,trait:seats:number\n"+
		"a1,Alpha,2026-01-01,2026-06-01,pro,3\na2,Bravo,2026-02-01,,starter,9\n")
	code, _, errOut = runCLI(t, env, "import", "history", accounts, signals)
	if code != 1 || !strings.Contains(errOut, "signals.csv line 2: occurred_at") || !strings.Contains(errOut, "after the account churned") {
		t.Fatalf("signal after churn: %d %q", code, errOut)
	}
	signals = write("signals.jsonl", `{"account":"a2","kind":"usage","source":"p","occurred_at":"2026-07-01T00:00:00Z","value":5,"idempotency_key":"k1"}`+"\n")
	code, out, errOut := runCLI(t, env, "import", "history", accounts, signals)
	if code != 0 || !strings.Contains(out, "imported 2 accounts (1 churned) and 1 signals") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, env, "model", "fit")
	if code != 1 || !strings.Contains(errOut, "refused: too little history") || !strings.Contains(errOut, "(need 200)") {
		t.Fatalf("fit: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, env, "model", "bogus"); code != exitUsage {
		t.Errorf("unknown subcommand: %d", code)
	}
	if code, _, errOut := runCLI(t, env, "model", "use", "7"); code != 1 || !strings.Contains(errOut, "no version 7") {
		t.Errorf("use of a missing version: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "model", "rollback"); code != 1 || !strings.Contains(errOut, "nothing to roll back") {
		t.Errorf("rollback with nothing to roll back: %d %q", code, errOut)
	}
	if code, out, _ := runCLI(t, env, "model", "list"); code != 0 || !strings.Contains(out, "* 0  hand-set weights") {
		t.Errorf("list: %d %q", code, out)
	}
}
