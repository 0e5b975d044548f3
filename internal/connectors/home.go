package connectors

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/holdfast/holdfast/blocks"
	"github.com/holdfast/holdfast/handlers"
)

// homeKeys is how many waiting keys the App Home lists.
const homeKeys = 10

// HomeSections show connectors.admins and the admin role what waits in the quarantine: tool
// keys no account is mapped to yet.
func (m *Module) HomeSections() []handlers.HomeSection {
	return []handlers.HomeSection{{Name: "connectors", Render: func(ctx context.Context, user string, now time.Time) (blocks.HomeSection, bool, error) {
		if !m.isAdmin(user) {
			return blocks.HomeSection{}, false, nil
		}
		s, err := m.Status(ctx)
		if err != nil || len(s.Quarantine) == 0 {
			return blocks.HomeSection{}, false, err
		}
		return blocks.HomeSection{Title: "Connector events waiting for an account", Blocks: quarantineBlocks(s.Quarantine, now)}, true, nil
	}}}
}

// quarantineBlocks lists the keys events wait under, most events first.
func quarantineBlocks(keys []QuarantineKey, now time.Time) []slack.Block {
	var lines []string
	for i, q := range keys {
		if i == homeKeys {
			lines = append(lines, "…and "+blocks.FormatInt(int64(len(keys)-homeKeys))+" more keys (`holdfast connectors status`)")
			break
		}
		lines = append(lines, fmt.Sprintf("%s %s `%s`: %s events since %s", blocks.Escape(q.Connector), blocks.Escape(q.KeyKind),
			blocks.UserText(q.Key, 100), blocks.FormatInt(int64(q.Events)), q.Oldest.UTC().Format("Jan 2 15:04 UTC")))
	}
	return []slack.Block{
		blocks.Section("connectors_quarantine", blocks.BulletList("", lines, blocks.MaxSectionText)),
		blocks.ContextBlock("connectors_quarantine_hint", "Map a key to an account with `POST /v1/connectors/mappings`; its events are replayed at once."),
	}
}
