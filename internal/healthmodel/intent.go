package healthmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/store"
)

// Resolutions of a stated intent to cancel.
const (
	ResolutionSaved     = "saved"
	ResolutionChurned   = "churned"
	ResolutionNotIntent = "not_intent" // the text was not intent: kept as a labelled example
)

// ErrNoOpenIntent is a resolution of an account without open intent.
var ErrNoOpenIntent = errors.New("no open statement of intent")

// ErrNotAllowed is a resolution by someone who does not own the account.
var ErrNotAllowed = errors.New("only the account's owner, AE, sales manager or the alert's claimant may resolve it")

// ResolveIntent closes every open statement of intent of the account.
// "not intent" also clears the signals' intent flag and stores their texts
// as labelled examples for the text model.
func ResolveIntent(ctx context.Context, st *store.Store, accountID int64, resolution, by string) error {
	switch resolution {
	case ResolutionSaved, ResolutionChurned, ResolutionNotIntent:
	default:
		return fmt.Errorf("unknown resolution %q", resolution)
	}
	return st.InTx(ctx, func(tx store.Tx) error {
		var latest int64
		err := tx.QueryRow(ctx, `SELECT s.id FROM signals s
			WHERE s.account_id = $1 AND s.churn_intent
			  AND s.id > coalesce((SELECT max(through_signal_id) FROM intent_resolutions WHERE account_id = $1), 0)
			ORDER BY s.id DESC LIMIT 1 FOR UPDATE`, accountID).Scan(&latest)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoOpenIntent
		}
		if err != nil {
			return fmt.Errorf("open intent: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO intent_resolutions (account_id, through_signal_id, resolution, resolved_by)
			VALUES ($1, $2, $3, $4)`, accountID, latest, resolution, by); err != nil {
			return fmt.Errorf("resolve intent: %w", err)
		}
		if resolution == ResolutionNotIntent {
			if _, err := tx.Exec(ctx, `WITH open AS (
					SELECT id, text FROM signals WHERE account_id = $1 AND churn_intent AND id <= $2
					  AND id > coalesce((SELECT max(through_signal_id) FROM intent_resolutions
						WHERE account_id = $1 AND through_signal_id < $2), 0)),
				examples AS (INSERT INTO intent_examples (signal_id, text, label, labelled_by)
					SELECT id, text, 'not_intent', $3 FROM open WHERE text <> '' ON CONFLICT (signal_id) DO NOTHING)
				UPDATE signals SET churn_intent = false WHERE id IN (SELECT id FROM open)`, accountID, latest, by); err != nil {
				return fmt.Errorf("label not intent: %w", err)
			}
		}
		label := strings.ReplaceAll(resolution, "_", " ")
		return tx.AddTimeline(ctx, accountID, store.TimelineEntry{At: time.Now(), Kind: "intent_resolved",
			Summary: "stated intent to cancel resolved: " + label, Actor: by}, 0)
	})
}

// mayResolve: the people who own the account's follow-up.
func mayResolve(ctx context.Context, db store.DB, accountID int64, user string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1
			AND (owner_csm = $2 OR ae = $2 OR sales_manager = $2 OR owner_csm = ''))
		OR EXISTS (SELECT 1 FROM alerts WHERE account_id = $1 AND claimed_by = $2)`, accountID, user).Scan(&ok)
	return ok, err
}

// Module is the health model's Slack side: the intent buttons on alerts
// and the model line on App Home.
type Module struct {
	st       *store.Store
	rescorer Rescorer
	log      *slog.Logger
	router   *handlers.Router
}

// Rescorer rescores accounts at once (ingest).
type Rescorer interface {
	Rescore(ctx context.Context, ids []int64) (ingest.RescoreResult, error)
}

// New wires the module.
func New(st *store.Store, rescorer Rescorer, log *slog.Logger) *Module {
	return &Module{st: st, rescorer: rescorer, log: log}
}

// Name is the feature's name.
func (m *Module) Name() string { return "healthmodel" }

// Register handles the Saved / Churned / Not intent buttons.
func (m *Module) Register(r *handlers.Router) {
	m.router = r
	r.HandleAction(blocks.ActionIntentPrefix, func(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction) error {
		return m.resolve(ctx, cb, strings.TrimPrefix(act.ActionID, blocks.ActionIntentPrefix), act.Value)
	})
}

func (m *Module) resolve(ctx context.Context, cb slack.InteractionCallback, resolution, value string) error {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return fmt.Errorf("bad account id %q", value)
	}
	ok, err := mayResolve(ctx, m.st.DB(), id, cb.User.ID)
	if err != nil {
		return err
	}
	if !ok {
		m.router.Tell(ctx, cb, blocks.Problem("Only the account's owner, AE, sales manager or whoever claimed its alert can resolve this."))
		return nil
	}
	err = ResolveIntent(ctx, m.st, id, resolution, cb.User.ID)
	switch {
	case errors.Is(err, ErrNoOpenIntent):
		m.router.Tell(ctx, cb, blocks.Problem("This account has no open statement of intent; someone resolved it already."))
		return nil
	case err != nil:
		return err
	}
	if _, err := m.rescorer.Rescore(ctx, []int64{id}); err != nil {
		m.log.Warn("rescore after intent resolution", "account", id, "err", err)
	}
	m.router.Tell(ctx, cb, blocks.Info("Recorded: stated intent resolved as *"+strings.ReplaceAll(resolution, "_", " ")+"*. The score no longer holds it."))
	return nil
}

// HomeSections shows which weights score, in one line.
func (m *Module) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "health_model", Render: func(ctx context.Context, _ string, _ time.Time) (blocks.HomeSection, bool, error) {
		model, fitted, err := m.st.ActiveModel(ctx)
		if err != nil {
			return blocks.HomeSection{}, false, err
		}
		line := handlers.ScoringLine(model, fitted)
		return blocks.HomeSection{Title: "Health score", Blocks: []slack.Block{blocks.ContextBlock("health_model", line)}}, true, nil
	}}}
}
