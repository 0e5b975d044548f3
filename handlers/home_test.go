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
	t.Parallel()
	st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.UpsertAccounts(ctx, []store.AccountInput{{ExternalID: "a", Name: "Acme", OwnerCSM: "U1", ARR: 1000}}); err != nil {
		t.Fatal(err)
	}
	pub := &published{views: map[string]slack.HomeTabViewRequest{}}
	now := time.Date(2027, 2, 8, 12, 0, 0, 0, time.UTC)
	home := handlers.NewHome(st, pub, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	var asked []string
	home.AddSection(handlers.HomeSection{Name: "offers", Render: func(ctx context.Context, user string, at time.Time) (blocks.HomeSection, bool, error) {
		asked = append(asked, user)
		if !at.Equal(now) {
			t.Errorf("section got time %v", at)
		}
		return blocks.HomeSection{Title: "Pending approvals", Blocks: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "2 offers wait for you", false, true), nil, nil, slack.SectionBlockOptionBlockID("offers_pending"))}}, true, nil
	}})
	home.AddSection(handlers.HomeSection{Name: "nps", Render: func(context.Context, string, time.Time) (blocks.HomeSection, bool, error) {
		return blocks.HomeSection{}, false, errors.New("nps store down")
	}})
	home.AddSection(handlers.HomeSection{Name: "quiet", Render: func(context.Context, string, time.Time) (blocks.HomeSection, bool, error) {
		return blocks.HomeSection{Title: "Never shown"}, false, nil
	}})
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

// A section that never answers (it ignores its context) must not hold up
// the Home: it gets the note, the others still show.
func TestHomeDoesNotWaitForAHungSection(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	pub := &published{views: map[string]slack.HomeTabViewRequest{}}
	home := handlers.NewHome(st, pub, time.Now, slog.New(slog.DiscardHandler))
	hung := make(chan struct{})
	t.Cleanup(func() { close(hung) })
	home.AddSection(handlers.HomeSection{Name: "stuck", Render: func(context.Context, string, time.Time) (blocks.HomeSection, bool, error) {
		<-hung
		return blocks.HomeSection{Title: "Too late"}, true, nil
	}})
	home.AddSection(handlers.HomeSection{Name: "fine", Render: func(context.Context, string, time.Time) (blocks.HomeSection, bool, error) {
		return blocks.HomeSection{Title: "Quick section", Blocks: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "all good", false, false), nil, nil, slack.SectionBlockOptionBlockID("fine_1"))}}, true, nil
	}})
	done := make(chan error, 1)
	go func() { done <- home.Publish(context.Background(), "U1") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Publish is still waiting for a section that never answers")
	}
	out := blocks.PlainTextBlocks(pub.views["U1"].Blocks.BlockSet)
	if !strings.Contains(out, "Could not load this section right now.") || !strings.Contains(out, "all good") || strings.Contains(out, "Too late") {
		t.Errorf("home:\n%s", out)
	}
}
