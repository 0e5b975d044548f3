package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Trait types: every trait key has one, fixed the first time it is stored.
const (
	TraitNumber   = "number"
	TraitCategory = "category"
	TraitDate     = "date"
	TraitBool     = "bool"
)

// TraitTypes lists the types a trait may have.
var TraitTypes = []string{TraitNumber, TraitCategory, TraitDate, TraitBool}

// TraitValue is one trait of an account as sent: Value is a float64,
// bool or string, or nil to remove the trait. Type is the declared type
// ("" infers it from the value, or takes the key's stored type).
type TraitValue struct {
	Value any
	Type  string
}

// TraitTypeError lists the rows whose traits do not fit their keys' types.
type TraitTypeError struct{ Rows []RowConflictError }

func (e *TraitTypeError) Error() string {
	msgs := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		msgs[i] = r.Error()
	}
	return strings.Join(msgs, "; ")
}

// traitKey is what a trait key may look like: a spreadsheet header or a
// CRM field name, not a sentence.
var traitKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 _.\-/()]{0,63}$`)

// maxTraitText bounds a category value.
const maxTraitText = 300

// FieldError is one problem with one field of an input row.
type FieldError struct{ Field, Message string }

// CheckTraits validates traits as sent (JSON values: number, bool, string,
// null to remove) with their optional declared types; nil when none is set.
func CheckTraits(values map[string]any, types map[string]string) (map[string]TraitValue, []FieldError) {
	if len(values) == 0 && len(types) == 0 {
		return nil, nil
	}
	var errs []FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	out := map[string]TraitValue{}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		v := values[k]
		field := "traits." + k
		if !traitKey.MatchString(k) {
			fail(field, "a trait key is 1-64 letters, digits, spaces or _-./() starting with a letter or digit")
			continue
		}
		switch x := v.(type) {
		case nil, bool:
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				fail(field, "must be a finite number")
			}
		case string:
			if !utf8.ValidString(x) || len(x) > maxTraitText || strings.ContainsRune(x, 0) {
				fail(field, "must be valid UTF-8 text of at most %d bytes", maxTraitText)
			}
		default:
			fail(field, "must be a number, true/false, a string or null (got a JSON %T)", v)
		}
		out[k] = TraitValue{Value: v}
	}
	for _, k := range slices.Sorted(maps.Keys(types)) {
		t := types[k]
		if !slices.Contains(TraitTypes, t) {
			fail("trait_types."+k, "unknown trait type %q (want one of %s)", t, strings.Join(TraitTypes, ", "))
			continue
		}
		tv, sent := out[k]
		if !sent {
			continue // a type without a value stores nothing
		}
		tv.Type = t
		if tv.Value != nil {
			if _, ok := CoerceTrait(tv.Value, t); !ok {
				fail("traits."+k, "%v is not a %s", tv.Value, t)
			}
		}
		out[k] = tv
	}
	return out, errs
}

// MergeTraits types and merges traits into existing accounts (a CRM
// webhook's), with the same rules as an account upsert.
func (q Queries) MergeTraits(ctx context.Context, accountIDs []int64, traits []map[string]TraitValue) error {
	in := make([]AccountInput, len(accountIDs))
	ids := make([]UpsertResult, len(accountIDs))
	for i := range accountIDs {
		in[i].Traits, ids[i].ID = traits[i], accountIDs[i]
	}
	return upsertTraits(ctx, q.db, in, ids)
}

// InferTraitType is the type a value implies when none was declared:
// numbers, bools, YYYY-MM-DD dates, and every other string a category.
func InferTraitType(v any) string {
	switch x := v.(type) {
	case float64, int, int64:
		return TraitNumber
	case bool:
		return TraitBool
	case string:
		if _, err := time.Parse(time.DateOnly, x); err == nil {
			return TraitDate
		}
	}
	return TraitCategory
}

// CoerceTrait converts v to the trait type typ; ok is false when it does
// not fit (a word for a number).
func CoerceTrait(v any, typ string) (any, bool) {
	switch typ {
	case TraitNumber:
		switch x := v.(type) {
		case float64:
			return x, !math.IsNaN(x) && !math.IsInf(x, 0)
		case int:
			return float64(x), true
		case string:
			f, err := strconv.ParseFloat(strings.NewReplacer("$", "", ",", "", "_", "").Replace(strings.TrimSpace(x)), 64)
			return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
		}
	case TraitBool:
		switch x := v.(type) {
		case bool:
			return x, true
		case string:
			b, ok := ParseBool(x)
			return b, ok
		}
	case TraitDate:
		if s, ok := v.(string); ok {
			s = strings.TrimSpace(s)
			if d, err := time.Parse(time.DateOnly, s); err == nil {
				return d.Format(time.DateOnly), true
			}
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t.UTC().Format(time.DateOnly), true
			}
		}
	case TraitCategory:
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		case bool:
			return strconv.FormatBool(x), true
		}
	}
	return nil, false
}

// ParseBool reads the ways spreadsheets and CRMs write a yes or no.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "t":
		return true, true
	case "false", "no", "n", "f":
		return false, true
	}
	return false, false
}

// TraitKeys returns every known trait key with its type.
func (q Queries) TraitKeys(ctx context.Context) (map[string]string, error) {
	rows, err := q.db.Query(ctx, `SELECT key, type FROM trait_keys`)
	if err != nil {
		return nil, fmt.Errorf("trait keys: %w", err)
	}
	out := map[string]string{}
	var k, t string
	for rows.Next() {
		if err := rows.Scan(&k, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("trait keys: %w", err)
		}
		out[k] = t
	}
	return out, wrap("trait keys", rows.Err())
}

// typeTraits registers the keys the rows bring (first sight fixes the
// type) and converts every value to its key's type. Problems are listed
// by row; none is stored then.
func typeTraits(ctx context.Context, tx DB, in []AccountInput) ([]map[string]any, error) {
	// A declared type wins; otherwise the first value of a key types it.
	wanted, declared := map[string]string{}, map[string]bool{}
	for _, a := range in {
		for _, k := range slices.Sorted(maps.Keys(a.Traits)) {
			tv := a.Traits[k]
			switch {
			case tv.Type != "" && !declared[k]:
				wanted[k], declared[k] = tv.Type, true
			case tv.Value != nil && wanted[k] == "":
				wanted[k] = InferTraitType(tv.Value)
			}
		}
	}
	if len(wanted) == 0 {
		return make([]map[string]any, len(in)), nil
	}
	keys := slices.Sorted(maps.Keys(wanted))
	types := make([]string, len(keys))
	for i, k := range keys {
		types[i] = wanted[k]
	}
	// Sorted keys take the rows' locks in one order, so two imports
	// registering the same new keys cannot deadlock.
	if _, err := tx.Exec(ctx, `INSERT INTO trait_keys (key, type) SELECT * FROM unnest($1::text[], $2::text[])
		ORDER BY 1 ON CONFLICT (key) DO NOTHING`, keys, types); err != nil {
		return nil, fmt.Errorf("register trait keys: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT key, type FROM trait_keys WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("trait keys: %w", err)
	}
	stored := map[string]string{}
	var k, t string
	for rows.Next() {
		if err := rows.Scan(&k, &t); err != nil {
			rows.Close()
			return nil, err
		}
		stored[k] = t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(in))
	var bad []RowConflictError
	for i, a := range in {
		if len(a.Traits) == 0 {
			continue
		}
		out[i] = map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(a.Traits)) {
			tv := a.Traits[k]
			typ := stored[k]
			if tv.Type != "" && tv.Type != typ {
				bad = append(bad, RowConflictError{Index: i, Field: "traits." + k,
					Message: fmt.Sprintf("is a %s trait, declared %s here", typ, tv.Type)})
				continue
			}
			if tv.Value == nil {
				out[i][k] = nil
				continue
			}
			v, ok := CoerceTrait(tv.Value, typ)
			if !ok {
				bad = append(bad, RowConflictError{Index: i, Field: "traits." + k,
					Message: fmt.Sprintf("%v is not a %s (the trait's type)", tv.Value, typ)})
				continue
			}
			out[i][k] = v
		}
	}
	if len(bad) > 0 {
		return nil, &TraitTypeError{Rows: bad}
	}
	return out, nil
}

// upsertTraits merges each row's typed traits into its account; a nil
// value removes the trait.
func upsertTraits(ctx context.Context, tx DB, in []AccountInput, ids []UpsertResult) error {
	typed, err := typeTraits(ctx, tx, in)
	if err != nil {
		return err
	}
	var accountIDs []int64
	var docs []string
	for i, t := range typed {
		if len(t) == 0 {
			continue
		}
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode traits: %w", err)
		}
		accountIDs, docs = append(accountIDs, ids[i].ID), append(docs, string(b))
	}
	if len(accountIDs) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `UPDATE accounts a SET traits = jsonb_strip_nulls(a.traits || u.doc::jsonb)
		FROM unnest($1::bigint[], $2::text[]) AS u(id, doc) WHERE a.id = u.id`, accountIDs, docs)
	return wrap("store traits", err)
}

// AccountTraits returns the traits of the accounts, by id.
func (q Queries) AccountTraits(ctx context.Context, ids []int64) (map[int64]map[string]any, error) {
	return AccountTraitsOn(ctx, q.db, ids)
}

// AccountTraitsOn is AccountTraits on any DB (a scorer inside ingest's transaction).
func AccountTraitsOn(ctx context.Context, db DB, ids []int64) (map[int64]map[string]any, error) {
	rows, err := db.Query(ctx, `SELECT id, traits FROM accounts WHERE id = ANY($1) AND traits <> '{}'`, ids)
	if err != nil {
		return nil, fmt.Errorf("account traits: %w", err)
	}
	out := map[int64]map[string]any{}
	var id int64
	var t map[string]any
	for rows.Next() {
		t = nil
		if err := rows.Scan(&id, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("account traits: %w", err)
		}
		out[id] = t
	}
	return out, wrap("account traits", rows.Err())
}
