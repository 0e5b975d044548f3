package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

func TestOwnedAccountsRiskiestFirst(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	in := []store.AccountInput{
		{ExternalID: "healthy", Name: "Healthy", OwnerCSM: "U1", ARR: 900},
		{ExternalID: "risk-small", Name: "Risk small", OwnerCSM: "U1", ARR: 100},
		{ExternalID: "critical", Name: "Critical", OwnerCSM: "U1", ARR: 50},
		{ExternalID: "unscored", Name: "Unscored", OwnerCSM: "U1", ARR: 5000},
		{ExternalID: "risk-big", Name: "Risk big", OwnerCSM: "U1", ARR: 1000},
		{ExternalID: "theirs", Name: "Theirs", OwnerCSM: "U2", ARR: 1e6},
		{ExternalID: "gone", Name: "Gone", OwnerCSM: "U1", Status: "churned"},
	}
	if _, err := upsert(ctx, st, in); err != nil {
		t.Fatal(err)
	}
	for ext, sb := range map[string][2]any{"healthy": {90, "healthy"}, "risk-small": {60, "at_risk"}, "risk-big": {60, "at_risk"}, "critical": {20, "critical"}} {
		if _, err := st.Pool().Exec(ctx, `UPDATE accounts SET health_score = $2, health_band = $3 WHERE external_id = $1`, ext, sb[0], sb[1]); err != nil {
			t.Fatal(err)
		}
	}
	accounts, total, err := st.OwnedAccounts(ctx, "U1", 4)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, ","); got != "Critical,Risk big,Risk small,Healthy" || total != 5 {
		t.Errorf("owned accounts %q (total %d), want critical, at risk by ARR, healthy; unscored last; 5 active in all", got, total)
	}
}
