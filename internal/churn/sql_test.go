package churn

import (
	"context"
	"testing"

	"github.com/holdfast/holdfast/store/storetest"
)

// An account that matches one churn profile on all four traits and another
// on three ranks by its best match: the report keeps the top candidates
// only, so a wrong score would push a four-trait lookalike out.
func TestLookalikeCandidatesRankByBestMatch(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO accounts (external_id, name, arr, status) VALUES ('best', 'Best', 1000, 'active'), ('three', 'Three', 90000, 'active')`,
		`INSERT INTO account_profiles (account_id, company_size_band, industry, deal_source, champion_tenure_months)
			SELECT id, '51-200', 'Retail', CASE external_id WHEN 'best' THEN 'Outbound' ELSE 'Partner' END, 3 FROM accounts`,
	} {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tenure := 3
	profiles := []Profile{
		{SizeBand: "51-200", Industry: "Retail", DealSource: "Inbound", ChampionTenureMonths: &tenure},  // 3 traits with both
		{SizeBand: "51-200", Industry: "retail", DealSource: "Outbound", ChampionTenureMonths: &tenure}, // 4 with Best
	}
	for _, ps := range [][]Profile{profiles, {profiles[1], profiles[0]}} {
		got, err := lookalikeCandidates(ctx, st.DB(), ps, "", 3, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != "Best" {
			t.Errorf("top candidate %+v, want Best (all four traits) before Three (three traits, more ARR)", got)
		}
	}
	if got, err := lookalikeCandidates(ctx, st.DB(), profiles[:1], "", 4, 10); err != nil || len(got) != 0 {
		t.Errorf("four traits required: %+v %v", got, err)
	}
}
