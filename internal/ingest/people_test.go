package ingest_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// directory answers from a fixed list and counts what it was asked.
type directory struct {
	users map[string]string
	asked map[string]int
}

func (d *directory) Resolve(_ context.Context, email string) (string, error) {
	d.asked[email]++
	return d.users[email], nil
}

func TestResolveEmailsAsksOncePerAddress(t *testing.T) {
	t.Parallel()
	dir := &directory{users: map[string]string{"ann@example.com": "U0ANN"}, asked: map[string]int{}}
	rows := []store.AccountInput{
		{ExternalID: "a", OwnerCSM: "ann@example.com", AE: "ghost@example.com"},
		{ExternalID: "b", OwnerCSM: "ann@example.com", SalesManager: "ghost@example.com"},
		{ExternalID: "c", OwnerCSM: "U0BOB", AE: "ann@example.com"},
	}
	unknown, err := ingest.ResolveEmails(context.Background(), dir, rows, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unknown, []string{"ghost@example.com"}) {
		t.Errorf("unknown %v, want [ghost@example.com]", unknown)
	}
	if rows[0].OwnerCSM != "U0ANN" || rows[1].OwnerCSM != "U0ANN" || rows[2].AE != "U0ANN" || rows[2].OwnerCSM != "U0BOB" {
		t.Errorf("resolved rows %+v", rows)
	}
	if rows[0].AE != "ghost@example.com" || rows[1].SalesManager != "ghost@example.com" {
		t.Errorf("an unknown address was not kept as typed: %+v", rows)
	}
	if dir.asked["ann@example.com"] != 1 || dir.asked["ghost@example.com"] != 1 || len(dir.asked) != 2 {
		t.Errorf("asked %v, want each address once", dir.asked)
	}
}
