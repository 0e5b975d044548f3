package nps

import "github.com/holdfast/holdfast/internal/nps/settings"

// Settings are the nps YAML section; config reads, defaults and validates
// them (see package settings for why they live there for now).
type Settings = settings.Settings
