package crm

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Settings configure CRM write-back (YAML "crm"); credentials come from
// the environment (config.CRMEnv).
type Settings struct {
	WriteBack  []string           `yaml:"write_back"`  // note kinds written to the CRM
	NoteObject string             `yaml:"note_object"` // task (default) or note
	Salesforce SalesforceSettings `yaml:"salesforce"`
}

// SalesforceSettings are the connector's non-secret options.
type SalesforceSettings struct {
	APIVersion      string `yaml:"api_version"`       // default v60.0
	ExternalIDField string `yaml:"external_id_field"` // e.g. Holdfast_Key__c: upsert by it
	CaseOrigin      string `yaml:"case_origin"`       // Case.Origin picklist value, optional
}

// DefaultSettings are the crm defaults.
func DefaultSettings() Settings {
	return Settings{WriteBack: []string{"note", "call_note", "email", "meeting"}, NoteObject: "task"}
}

var (
	apiVersion  = regexp.MustCompile(`^v\d{2,3}\.\d$`)
	sfFieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,39}$`)
)

// Validate checks the section; an error names the key at fault.
// write_back may name noteKinds (the kinds a note can have).
func (c *Settings) Validate(noteKinds []string) error {
	for i, k := range c.WriteBack {
		if !slices.Contains(noteKinds, k) {
			return fmt.Errorf("crm.write_back[%d]: %q is not a note kind (note, call_note, ticket, email, meeting, slack_message)", i, k)
		}
	}
	if c.NoteObject != "task" && c.NoteObject != "note" {
		return fmt.Errorf("crm.note_object: must be task or note (got %q)", c.NoteObject)
	}
	sf := c.Salesforce
	if sf.APIVersion != "" && !apiVersion.MatchString(sf.APIVersion) {
		return fmt.Errorf("crm.salesforce.api_version: want like v60.0 (got %q)", sf.APIVersion)
	}
	if sf.ExternalIDField != "" && !sfFieldName.MatchString(sf.ExternalIDField) {
		return fmt.Errorf("crm.salesforce.external_id_field: %q is not a Salesforce field name", sf.ExternalIDField)
	}
	if len(sf.CaseOrigin) > 40 {
		return errors.New("crm.salesforce.case_origin: longer than 40 characters")
	}
	return nil
}
