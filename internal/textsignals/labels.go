package textsignals

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/scoring/text"
	"github.com/holdfast/holdfast/store"
)

// Labels people give text readings from Slack, for retraining.
const (
	LabelNotChurnIntent = "not_churn_intent"
	LabelWrongSentiment = "wrong_sentiment"
)

func (m *Module) labelClicked(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
	label := LabelWrongSentiment
	if act.ActionID == blocks.ActionTextLabelNotIntent {
		label = LabelNotChurnIntent
	}
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("bad signal id %q", act.Value)
	}
	stored, err := recordLabel(ctx, m.store.DB(), id, label, cb.User.ID, m.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		m.router.Tell(ctx, cb, blocks.Problem("That text is no longer stored."))
		return nil
	case err != nil:
		return err
	case !stored:
		m.router.Tell(ctx, cb, blocks.Info("You already marked this text; it is kept once."))
	case label == LabelNotChurnIntent:
		m.router.Tell(ctx, cb, blocks.Info("Thanks: marked as not churn intent. It goes into the next training set."))
	default:
		m.router.Tell(ctx, cb, blocks.Info("Thanks: marked as wrong sentiment. It goes into the next training set."))
	}
	return nil
}

// recordLabel stores one labelled example of signal id; stored is false
// when this person gave this label to this text before (a second click, or
// Slack delivering the same click again).
func recordLabel(ctx context.Context, db store.DB, signalID int64, label, user string, at time.Time) (stored bool, err error) {
	tag, err := db.Exec(ctx, `
		INSERT INTO text_labels (signal_id, label, labelled_by, labelled_at, text, sentiment, churn_intent, model_version)
		SELECT s.id, $2, $3, $4, s.text, s.sentiment, s.churn_intent, $5 FROM signals s WHERE s.id = $1
		ON CONFLICT (signal_id, label, labelled_by) DO NOTHING`, signalID, label, user, at, text.ModelVersion)
	if err != nil {
		return false, fmt.Errorf("record text label: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var exists bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signals WHERE id = $1)`, signalID).Scan(&exists); err != nil {
		return false, fmt.Errorf("record text label: %w", err)
	}
	if !exists {
		return false, store.ErrNotFound
	}
	return false, nil
}

// LabelRow is one exported labelled example.
type LabelRow struct {
	ID           int64     `json:"id"`
	SignalID     int64     `json:"signal_id"`
	Label        string    `json:"label"`
	LabelledBy   string    `json:"labelled_by"`
	LabelledAt   time.Time `json:"labelled_at"`
	Text         string    `json:"text"`
	Sentiment    *float64  `json:"sentiment"`
	ChurnIntent  bool      `json:"churn_intent"`
	ModelVersion string    `json:"model_version"`
}

// ExportLabels writes every labelled example, oldest first, as JSON Lines
// or CSV (with a header). It returns how many it wrote.
func ExportLabels(ctx context.Context, db store.DB, format string, w io.Writer) (int, error) {
	if format != "csv" && format != "jsonl" {
		return 0, fmt.Errorf("format %q: want csv or jsonl", format)
	}
	rows, err := db.Query(ctx, `SELECT id, signal_id, label, labelled_by, labelled_at, text, sentiment, churn_intent, model_version
		FROM text_labels ORDER BY labelled_at, id`)
	if err != nil {
		return 0, fmt.Errorf("export labels: %w", err)
	}
	defer rows.Close()
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	if format == "csv" {
		cw = csv.NewWriter(w)
		if err := cw.Write([]string{"id", "signal_id", "label", "labelled_by", "labelled_at", "text", "sentiment", "churn_intent", "model_version"}); err != nil {
			return 0, err
		}
	}
	n := 0
	for rows.Next() {
		var r LabelRow
		if err := rows.Scan(&r.ID, &r.SignalID, &r.Label, &r.LabelledBy, &r.LabelledAt, &r.Text, &r.Sentiment, &r.ChurnIntent, &r.ModelVersion); err != nil {
			return n, fmt.Errorf("export labels: %w", err)
		}
		if cw != nil {
			sent := ""
			if r.Sentiment != nil {
				sent = strconv.FormatFloat(*r.Sentiment, 'f', -1, 64)
			}
			err = cw.Write([]string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.SignalID, 10), r.Label, r.LabelledBy,
				r.LabelledAt.UTC().Format(time.RFC3339), r.Text, sent, strconv.FormatBool(r.ChurnIntent), r.ModelVersion})
		} else {
			err = enc.Encode(r)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return n, fmt.Errorf("export labels: %w", err)
	}
	if cw != nil {
		cw.Flush()
		return n, cw.Error()
	}
	return n, nil
}
