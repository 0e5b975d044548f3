package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/holdfast/holdfast/api"
	"github.com/holdfast/holdfast/internal/churn"
	"github.com/holdfast/holdfast/internal/ingest"
)

// Cohort traits and the Stripe customer are accepted additively: a client
// that does not send them keeps what is stored; a Stripe customer used by
// another account is a 422 row error and nothing of the batch is stored.
func TestAccountProfilesAdditive(t *testing.T) {
	t.Parallel()
	d := newDeployment(t)
	r := d.start()
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme", CompanySizeBand: str("51-200"), Industry: str("Retail"),
		DealSource: str("Outbound"), ChampionTenureMonths: num(7), StripeCustomerID: str("cus_ACME")})
	r.accounts(ingest.AccountIn{ExternalID: "acme", Name: "Acme Inc", Industry: str("Retail & Leisure")}) // an older client + one trait
	ctx := context.Background()
	a, err := d.store.AccountByStripeCustomer(ctx, "cus_ACME")
	if err != nil || a.Name != "Acme Inc" {
		t.Fatalf("by stripe customer: %+v %v", a, err)
	}
	p, cus, err := r.app.feature("churn").(*churn.Module).Profile(ctx, a.ID)
	if err != nil || p.SizeBand != "51-200" || p.Industry != "Retail & Leisure" || p.DealSource != "Outbound" ||
		p.ChampionTenureMonths == nil || *p.ChampionTenureMonths != 7 || cus != "cus_ACME" {
		t.Fatalf("profile %+v %q %v", p, cus, err)
	}

	var res struct {
		Error string         `json:"error"`
		Rows  []api.RowError `json:"rows"`
	}
	code := r.post("/v1/accounts", map[string]any{"accounts": []ingest.AccountIn{
		{ExternalID: "fresh", Name: "Fresh"},
		{ExternalID: "bolt", Name: "Bolt", StripeCustomerID: str("cus_ACME")},
	}}, &res)
	if code != http.StatusUnprocessableEntity || len(res.Rows) != 1 || res.Rows[0].Index != 1 || res.Rows[0].Field != "stripe_customer_id" {
		t.Fatalf("conflict: %d %+v", code, res)
	}
	if n := d.count(`SELECT count(*) FROM accounts WHERE external_id IN ('fresh', 'bolt')`); n != 0 {
		t.Fatalf("%d accounts of a rejected batch stored", n)
	}
	code = r.post("/v1/accounts", map[string]any{"accounts": []ingest.AccountIn{
		{ExternalID: "x", Name: "X", StripeCustomerID: str("acme"), ChampionTenureMonths: num(-1)},
	}}, &res)
	if code != http.StatusUnprocessableEntity || len(res.Rows) != 2 {
		t.Fatalf("bad values: %d %+v", code, res)
	}
}

func TestImportCSVProfiles(t *testing.T) {
	t.Parallel()
	rows, _, problems := readAccountsCSV(strings.NewReader("external_id,name,industry,champion_tenure_months,stripe_customer_id\n" +
		"a1,Alpha,Retail,12,cus_A1\na2,Bravo,,,\n"))
	if len(problems) > 0 || len(rows) != 2 {
		t.Fatalf("%v %v", rows, problems)
	}
	if *rows[0].Industry != "Retail" || *rows[0].ChampionTenureMonths != 12 || *rows[0].StripeCustomerID != "cus_A1" ||
		rows[0].CompanySizeBand != nil || rows[1].ChampionTenureMonths != nil || *rows[1].Industry != "" {
		t.Errorf("rows %+v %+v", rows[0], rows[1])
	}
	_, _, problems = readAccountsCSV(strings.NewReader("external_id,name,champion_tenure_months\na1,Alpha,ten\n"))
	if len(problems) != 1 || !strings.Contains(problems[0], "champion_tenure_months") {
		t.Errorf("problems %v", problems)
	}
}

// Trait columns are typed by column unless the header declares a type.
func TestImportCSVTraits(t *testing.T) {
	t.Parallel()
	rows, _, problems := readAccountsCSV(strings.NewReader("external_id,name,trait:plan,trait:seats,trait:sso,trait:term:category\n" +
		"a1,Alpha,pro,12,yes,12\na2,Bravo,starter,,no,24\n"))
	if len(problems) > 0 || len(rows) != 2 {
		t.Fatalf("%v %v", rows, problems)
	}
	a, b := rows[0], rows[1]
	if a.Traits["plan"] != "pro" || a.Traits["seats"] != 12.0 || a.Traits["sso"] != true || a.Traits["term"] != "12" ||
		a.TraitTypes["term"] != "category" || b.Traits["seats"] != nil || b.Traits["sso"] != false {
		t.Errorf("traits %+v / %+v", a.Traits, b.Traits)
	}
	if _, _, problems := readAccountsCSV(strings.NewReader("external_id,name,plan\na1,Alpha,pro\n")); len(problems) != 1 {
		t.Errorf("a bare unknown column must stay an error (typos are not traits): %v", problems)
	}
}
