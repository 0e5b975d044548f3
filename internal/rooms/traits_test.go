package rooms_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/rooms"
	"github.com/holdfast/holdfast/store/storetest"
)

// CRM fields sent with a deal become typed account traits; one that does
// not fit its key's type rejects the batch by row.
func TestDealsCarryAccountTraits(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	deals := rooms.NewDeals(st, "", time.Now, slog.New(slog.DiscardHandler))
	c := context.Background()
	if _, err := deals.RecordDeals(c, []rooms.DealIn{{ID: "006-1", Account: "acme", AccountName: "Acme", Stage: "Closed Won",
		AccountTraits: map[string]any{"payment_method": "invoice", "seats": 40.0}}}, "crm_webhook"); err != nil {
		t.Fatal(err)
	}
	a, err := st.AccountByExternalID(c, "acme")
	if err != nil {
		t.Fatal(err)
	}
	traits, err := st.AccountTraits(c, []int64{a.ID})
	if err != nil || traits[a.ID]["payment_method"] != "invoice" || traits[a.ID]["seats"] != 40.0 {
		t.Fatalf("traits %v (%v)", traits, err)
	}
	_, err = deals.RecordDeals(c, []rooms.DealIn{{ID: "006-2", Account: "acme", Stage: "Closed Won",
		AccountTraits: map[string]any{"seats": "forty"}}}, "crm_webhook")
	var ve *api.ValidationError
	if !errors.As(err, &ve) || len(ve.Rows) != 1 || ve.Rows[0].Field != "account_traits.seats" {
		t.Fatalf("err = %v %+v", err, ve)
	}
}
