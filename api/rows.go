package api

import "fmt"

// RowError is one problem with one row of a batch (a signal, an account, a
// deal, an NPS answer); Index -1 is the batch as a whole.
type RowError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError carries every row problem of a rejected batch; nothing of
// the batch was stored. Endpoints answer it with 422 and the rows; the CSV
// imports print it by line.
type ValidationError struct{ Rows []RowError }

func (e *ValidationError) Error() string {
	if len(e.Rows) == 0 {
		return "invalid batch"
	}
	r := e.Rows[0]
	more := ""
	if len(e.Rows) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(e.Rows)-1)
	}
	return fmt.Sprintf("row %d: %s: %s%s", r.Index, r.Field, r.Message, more)
}

// Rows is a ValidationError of rows, or nil when there are none.
func Rows(rows []RowError) error {
	if len(rows) == 0 {
		return nil
	}
	return &ValidationError{Rows: rows}
}
