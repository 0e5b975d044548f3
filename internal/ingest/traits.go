package ingest

import (
	"strconv"
	"strings"

	"github.com/holdfast/holdfast/store"
)

// TraitColumnPrefix marks a CSV column as an account trait:
// "trait:plan", or "trait:seats:number" to declare its type.
const TraitColumnPrefix = "trait:"

// TraitColumn is one trait column of a CSV header.
type TraitColumn struct {
	Index int    // position in the record
	Key   string // "plan"
	Type  string // declared type, "" to infer from the column
}

// ParseTraitHeader reads a "trait:KEY[:TYPE]" header; ok is false for
// other columns. The type is returned as written, for the caller to check.
func ParseTraitHeader(h string) (key, typ string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), TraitColumnPrefix)
	if !ok {
		return "", "", false
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		return strings.TrimSpace(rest[:i]), strings.ToLower(strings.TrimSpace(rest[i+1:])), true
	}
	return strings.TrimSpace(rest), "", true
}

// TypeTraitCells turns one trait column's cells into values. Without a
// declared type the column decides: numbers if every filled cell is one,
// then yes/no, then dates, else categories. An empty cell is nil (the
// trait is removed, as an empty CSV field clears a stored value).
func TypeTraitCells(cells []string, declared string) []any {
	typ := declared
	if typ == "" {
		typ = inferColumn(cells)
	}
	out := make([]any, len(cells))
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if v, ok := store.CoerceTrait(c, typ); ok && typ != store.TraitDate {
			out[i] = v
		} else {
			// Left as written: the type check names the cell.
			out[i] = c
		}
	}
	return out
}

func inferColumn(cells []string) string {
	num, boolean, date, filled := true, true, true, 0
	for _, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		filled++
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			num = false
		}
		if _, ok := store.ParseBool(c); !ok {
			boolean = false
		}
		if store.InferTraitType(c) != store.TraitDate {
			date = false
		}
	}
	switch {
	case filled == 0:
		return store.TraitCategory
	case num:
		return store.TraitNumber
	case boolean:
		return store.TraitBool
	case date:
		return store.TraitDate
	}
	return store.TraitCategory
}
