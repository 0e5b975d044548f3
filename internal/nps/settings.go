package nps

import "github.com/holdfast/holdfast/internal/nps/settings"

// Settings are the nps YAML section; config reads and validates them.
type Settings = settings.Settings

// DefaultSettings are the nps defaults.
func DefaultSettings() Settings { return settings.DefaultSettings() }
