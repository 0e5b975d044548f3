package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/store"
	"github.com/holdfast/holdfast/store/storetest"
)

// published records views.publish calls (Slack's side of the App Home).
type published struct {
	views map[string]slack.HomeTabViewRequest
}

func (p *published) PublishView(_ context.Context, user string, v slack.HomeTabViewRequest) error {
	p.views[user] = v
	return nil
}

func TestHomeSectionsFromOtherFeatures(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.UpsertAccounts(ctx, []store.AccountInput{{ExternalID: "a", Name: "Acme", OwnerCSM: "U1", ARR: 1000}}); err != nil {
		t.Fatal(err)
	}
	pub := &published{views: map[string]slack.HomeTabViewRequest{}}
	now := time.Date(2027, 2, 8, 12, 0, 0, 0, time.UTC)
	home := handlers.NewHome(st, pub, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	var asked []string
	home.AddSection("offers", func(ctx context.Context, user string, at time.Time) (blocks.HomeSection, bool, error) {
		asked = append(asked, user)
		if !at.Equal(now) {
			t.Errorf("section got time %v", at)
		}
		return blocks.HomeSection{Title: "Pending approvals", Blocks: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "2 offers wait for you", false, true), nil, nil, slack.SectionBlockOptionBlockID("offers_pending"))}}, true, nil
	})
	home.AddSection("nps", func(context.Context, string, time.Time) (blocks.HomeSection, bool, error) {
		return blocks.HomeSection{}, false, errors.New("nps store down")
	})
	home.AddSection("quiet", func(context.Context, string, time.Time) (blocks.HomeSection, bool, error) {
		return blocks.HomeSection{Title: "Never shown"}, false, nil
	})
	if err := home.Publish(ctx, "U1"); err != nil {
		t.Fatal(err)
	}
	v, ok := pub.views["U1"]
	if !ok || len(asked) != 1 || asked[0] != "U1" {
		t.Fatalf("published %v, sections asked for %v", ok, asked)
	}
	out := blocks.PlainTextBlocks(v.Blocks.BlockSet)
	for _, want := range []string{"Your accounts", "Acme", "Pending approvals", "2 offers wait for you", "Could not load this section right now."} {
		if !strings.Contains(out, want) {
			t.Errorf("home lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Never shown") {
		t.Errorf("a section with nothing to show was shown:\n%s", out)
	}
}
