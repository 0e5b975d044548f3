package offers

import "github.com/holdfast/holdfast/internal/offers/settings"

// The offers: section of the YAML file and the offer types live in the
// leaf package settings while handlers imports config (config imports the
// section); these names make them this package's own.
type (
	Settings   = settings.Settings
	Role       = settings.Role
	Stage      = settings.Stage
	Step       = settings.Step
	Condition  = settings.Condition
	Range      = settings.Range
	Guidelines = settings.Guidelines
	Guideline  = settings.Guideline
	TierLimit  = settings.TierLimit
	Type       = settings.Type
)

// The offer types.
const (
	Discount             = settings.Discount
	ServiceCredit        = settings.ServiceCredit
	FreeMonths           = settings.FreeMonths
	ContractModification = settings.ContractModification
)

// Types lists the offer types in the order the form shows them.
var Types = settings.Types

// DefaultSettings is the section's defaults (settings.DefaultSettings).
func DefaultSettings() Settings { return settings.DefaultSettings() }
