package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
)

// CRMEnv is the CRM's connection and secrets, from the environment:
// SALESFORCE_INSTANCE_URL, SALESFORCE_TOKEN_URL, SALESFORCE_CLIENT_ID,
// SALESFORCE_CLIENT_SECRET, SALESFORCE_ACCESS_TOKEN and
// HOLDFAST_CRM_WEBHOOK_SECRET. Never logged.
type CRMEnv struct {
	InstanceURL   string
	TokenURL      string
	ClientID      string
	ClientSecret  string
	AccessToken   string
	WebhookSecret string
}

// Enabled reports whether CRM write-back is configured.
func (c CRMEnv) Enabled() bool { return c.InstanceURL != "" }

// String never shows a secret.
func (c CRMEnv) String() string {
	return fmt.Sprintf("salesforce instance %q (credentials hidden)", c.InstanceURL)
}

func loadCRMEnv(getenv Getenv) CRMEnv {
	return CRMEnv{
		InstanceURL: getenv("SALESFORCE_INSTANCE_URL"), TokenURL: getenv("SALESFORCE_TOKEN_URL"),
		ClientID: getenv("SALESFORCE_CLIENT_ID"), ClientSecret: getenv("SALESFORCE_CLIENT_SECRET"),
		AccessToken: getenv("SALESFORCE_ACCESS_TOKEN"), WebhookSecret: getenv("HOLDFAST_CRM_WEBHOOK_SECRET"),
	}
}

func (c CRMEnv) validate() error {
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 16 {
		return errors.New("HOLDFAST_CRM_WEBHOOK_SECRET: must be at least 16 characters")
	}
	if c.InstanceURL == "" {
		if c.ClientID != "" || c.ClientSecret != "" || c.AccessToken != "" || c.TokenURL != "" {
			return errors.New("SALESFORCE_INSTANCE_URL: required when other SALESFORCE_* variables are set")
		}
		return nil
	}
	for _, e := range [][2]string{{"SALESFORCE_INSTANCE_URL", c.InstanceURL}, {"SALESFORCE_TOKEN_URL", c.TokenURL}} {
		name, v := e[0], e[1]
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return fmt.Errorf("%s: want an https URL (got %q)", name, v)
		}
	}
	hasClient := c.ClientID != "" || c.ClientSecret != ""
	switch {
	case c.AccessToken != "" && hasClient:
		return errors.New("SALESFORCE_ACCESS_TOKEN: set it or SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET, not both")
	case c.AccessToken == "" && (c.ClientID == "" || c.ClientSecret == ""):
		return errors.New("SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET: set both (or SALESFORCE_ACCESS_TOKEN) with SALESFORCE_INSTANCE_URL")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
