package healthmodel

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
)

// FileUploader is the part of the Slack client a fit's report needs
// (files.uploadV2: get an upload URL, send the bytes, complete and share).
type FileUploader interface {
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

// Summary is a fit's report in a few lines of Slack mrkdwn.
func Summary(v Version) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Health model version %d fitted* by %s: %s.\n", v.ID, blocks.Escape(v.FittedBy), v.Line())
	fmt.Fprintf(&b, "%d examples at cut-offs %s, %d churned within %dd. ", v.Examples, dates(v.Cutoffs), v.Churns, v.HorizonDays)
	f := v.Backtest
	fmt.Fprintf(&b, "Out-of-fold ROC AUC %s, PR AUC %s, top-decile lift %s; at risk from churn probability %.2f: precision %s, recall %s.\n",
		fig(f.ROCAUC, "%.3f"), fig(f.PRAUC, "%.3f"), fig(f.TopDecileLift, "%.1fx"), v.Spec.AtRiskP,
		fig(pct(f.AtRiskPrecision), "%.0f%%"), fig(pct(f.AtRiskRecall), "%.0f%%"))
	fmt.Fprintf(&b, "Not scoring yet: `holdfast model use %d` makes it score.", v.ID)
	return b.String()
}

// PostFit shares the fit's summary and its ROC and calibration plot in channel.
func PostFit(ctx context.Context, up FileUploader, channel string, v Version, png []byte) error {
	_, err := up.UploadFileContext(ctx, slack.UploadFileParameters{
		Channel: channel, Reader: bytes.NewReader(png), FileSize: len(png),
		Filename: fmt.Sprintf("holdfast-model-%d.png", v.ID), Title: "Health model " + fmt.Sprint(v.ID) + " backtest",
		AltTxt: "ROC curve and calibration plot", InitialComment: Summary(v),
	})
	if err != nil {
		return fmt.Errorf("post fit to %s: %w", channel, err)
	}
	return nil
}

func dates(ts []time.Time) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Format(time.DateOnly)
	}
	return strings.Join(s, ", ")
}
