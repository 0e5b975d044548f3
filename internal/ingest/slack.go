package ingest

import (
	"encoding/json"
	"fmt"

	"github.com/holdfast/holdfast/blocks"
)

// ClaimedCard re-renders a churn-risk alert from its stored view (the
// alerts.view column) as claimed by user: the Claim button gives way to
// the claimant's name.
func ClaimedCard(view json.RawMessage, user string) (blocks.Message, error) {
	var v alertView
	if err := json.Unmarshal(view, &v); err != nil {
		return blocks.Message{}, fmt.Errorf("decode alert view: %w", err)
	}
	v.ClaimedBy = user
	return alertCard(v), nil
}
