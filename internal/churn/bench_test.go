package churn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// seedLoop fills a schema with n accounts with profiles (a tenth churned,
// over the last year, with records) and one usage signal each.
func seedLoop(b *testing.B, n int) *store.Store {
	b.Helper()
	st := storetest.New(b)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO accounts (external_id, name, arr, owner_csm, ae, status)
			SELECT 'a' || i, 'Account ' || i, (i % 200) * 1000, 'U' || (i % 50), 'UAE' || (i % 20),
				CASE WHEN i % 10 = 0 THEN 'churned' ELSE 'active' END
			FROM generate_series(1, $1) i`,
		`INSERT INTO account_profiles (account_id, company_size_band, industry, deal_source, champion_tenure_months)
			SELECT id, (ARRAY['1-50','51-200','201-1000','1000+'])[1 + id % 4], (ARRAY['Retail','Fintech','Health','SaaS','Media'])[1 + id % 5],
				(ARRAY['Inbound','Outbound','Partner'])[1 + id % 3], (id % 48)::int FROM accounts`,
		`INSERT INTO churn_records (account_id, submission_key, churned_on, cause, sales_attributable, stated_reason, diagnosis,
				recorded_by, arr, company_size_band, industry, deal_source, champion_tenure_months)
			SELECT a.id, 'seed' || a.id, date '2027-03-01' - (a.id % 365)::int,
				(ARRAY['icp_miss','feature_overpromise','timeline_overpromise','phantom_champion','product_deficiency','competitive_loss','business_change','pricing'])[1 + a.id % 8],
				a.id % 8 < 4, 'r', 'd', a.owner_csm, a.arr, p.company_size_band, p.industry, p.deal_source, p.champion_tenure_months
			FROM accounts a JOIN account_profiles p ON p.account_id = a.id WHERE a.status = 'churned'`,
		`INSERT INTO signals (account_id, kind, source, idempotency_key, occurred_at, value)
			SELECT id, 'usage', 'product', 'u' || id, timestamptz '2027-03-01' - (id % 90) * interval '1 day', 1 FROM accounts`,
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, n)
		}
		if _, err := st.Pool().Exec(ctx, q, args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	return st
}

// Report queries over 100k accounts (10k churned): what /rootcause and the
// monthly post cost.
func BenchmarkLoopQueries100k(b *testing.B) {
	db := seedLoop(b, 100_000).DB()
	ctx := context.Background()
	feb := MonthOf(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
	profiles := []Profile{}
	for i := range 10 {
		m := i * 5
		profiles = append(profiles, Profile{SizeBand: "51-200", Industry: "Retail", DealSource: "Outbound", ChampionTenureMonths: &m})
	}
	cutoff := time.Date(2027, 1, 30, 0, 0, 0, 0, time.UTC)
	b.Run("CohortGroups", func(b *testing.B) {
		for b.Loop() {
			if _, err := cohortGroups(ctx, db, feb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ChurnRecords4Quarters", func(b *testing.B) {
		for b.Loop() {
			if _, err := churnRecords(ctx, db, Quarters(feb)[0].Start, feb.End); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LookalikeCandidates", func(b *testing.B) {
		for b.Loop() {
			if _, err := lookalikeCandidates(ctx, db, profiles, "", 3, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LookalikeCandidatesOneAE", func(b *testing.B) {
		for b.Loop() {
			if _, err := lookalikeCandidates(ctx, db, profiles[:1], "UAE3", 3, 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DormantAccounts", func(b *testing.B) {
		for b.Loop() {
			if _, err := dormantAccounts(ctx, db, cutoff, 500); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ChurnedForWinback", func(b *testing.B) {
		for b.Loop() {
			if _, err := churnedForWinback(ctx, db, feb.End); err != nil {
				b.Fatal(err)
			}
		}
	})
}
