package rooms

import (
	"cmp"
	"context"

	"github.com/holdfast/holdfast/store"
)

// linkRoom makes r.ChannelID the account's room (replacing any earlier
// room), points the account's alerts there, and resumes handoffs that
// were waiting for a room; *ChannelTakenError when the channel is another
// account's room.
func (m *Module) linkRoom(ctx context.Context, r Room) error {
	at := m.now()
	return m.st.InTx(ctx, func(tx store.Tx) error {
		other, err := roomOwner(ctx, tx, r.ChannelID, r.AccountID)
		if err != nil {
			return err
		}
		if other != 0 {
			return &ChannelTakenError{AccountID: other}
		}
		entry := store.TimelineEntry{At: at, Kind: "room.linked", Summary: "Room linked: #" + cmp.Or(r.ChannelName, r.ChannelID)}
		if err := saveRoom(ctx, tx, r, entry); err != nil {
			return err
		}
		resumed, err := resumeWaitingForRoom(ctx, tx, r.AccountID)
		if err != nil || resumed == 0 {
			return err
		}
		return Handoffs.Notify(ctx, tx)
	})
}
