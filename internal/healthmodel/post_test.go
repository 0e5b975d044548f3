package healthmodel_test

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/bot/slacktest"
	"github.com/holdfast/holdfast/internal/healthmodel"
)

// After a fit, its summary and plot reach the configured channel through
// files.uploadV2's three steps.
func TestPostFitUploadsSummaryAndPlot(t *testing.T) {
	t.Parallel()
	fake, err := slacktest.New(slacktest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	auc := 0.84
	v := healthmodel.Version{ID: 3, FittedBy: "dana", FittedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Accounts: 7043,
		HorizonDays: 90, Backtest: healthmodel.Figures{ROCAUC: &auc}}
	img, err := healthmodel.PlotPNG([]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := healthmodel.PostFit(context.Background(), api, "C0MODEL", v, img); err != nil {
		t.Fatal(err)
	}
	files := fake.Files()
	if len(files) != 1 || !files[0].Complete || files[0].Channel != "C0MODEL" {
		t.Fatalf("files %+v", files)
	}
	if _, err := png.Decode(bytes.NewReader(files[0].Content)); err != nil {
		t.Errorf("uploaded content is not the PNG: %v", err)
	}
	if !strings.Contains(files[0].Comment, "weights fitted 2026-12-01 on 7,043 accounts; backtest AUC 0.84") {
		t.Errorf("comment %q", files[0].Comment)
	}
}
