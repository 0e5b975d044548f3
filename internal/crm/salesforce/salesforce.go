// Package salesforce is the Salesforce REST connector for CRM write-back:
// it creates Tasks (or classic Notes) and Cases on an Account, authorising
// with the OAuth 2.0 client-credentials flow or a static access token.
//
// Exactly once: with an external id field configured (a custom field such
// as Holdfast_Key__c, unique and external id), every write is an upsert by
// the idempotency key, which Salesforce itself makes idempotent. Without
// one, the key is kept in the subject as "[hf <key>]" and a retry first
// looks the record up by it (SOQL), so an answer lost after Salesforce
// committed does not create a second record.
package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/holdfast/holdfast/internal/crm"
)

// Config is how to reach one Salesforce org. Secrets (ClientSecret,
// AccessToken) are never logged or put in errors.
type Config struct {
	InstanceURL     string // https://acme.my.salesforce.com
	TokenURL        string // default InstanceURL + /services/oauth2/token
	ClientID        string
	ClientSecret    string
	AccessToken     string // a static token instead of client credentials
	APIVersion      string // default v60.0
	ExternalIDField string // optional upsert key field on Task, Note and Case
	CaseOrigin      string // optional Case.Origin picklist value
	HTTPClient      *http.Client
}

// DefaultAPIVersion is the REST API version used when none is configured.
const DefaultAPIVersion = "v60.0"

// Client is a Salesforce connector; safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client

	mu       sync.Mutex
	token    string
	instance string
}

// New builds a client; it does not call Salesforce until the first write.
func New(cfg Config) *Client {
	cfg.InstanceURL = strings.TrimRight(cfg.InstanceURL, "/")
	if cfg.TokenURL == "" {
		cfg.TokenURL = cfg.InstanceURL + "/services/oauth2/token"
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	return &Client{cfg: cfg, http: hc}
}

// Name implements crm.Connector.
func (c *Client) Name() string { return "salesforce" }

// object maps a write to its sObject and fields.
type object struct {
	name         string // sObject type
	parentField  string // the field holding the Account id
	subjectField string // where the marker lives, filterable in SOQL
	fields       map[string]any
}

func (c *Client) objectFor(r crm.Record) (object, error) {
	subject := r.Subject
	if c.cfg.ExternalIDField == "" {
		subject = withMarker(subject, r.Key)
	}
	switch r.Object {
	case crm.ObjectTask:
		f := map[string]any{"WhatId": r.AccountID, "Subject": subject, "Description": r.Body, "Status": "Completed",
			"Priority": "Normal"}
		if r.Date != "" {
			f["ActivityDate"] = r.Date
		}
		return object{"Task", "WhatId", "Subject", f}, nil
	case crm.ObjectNote:
		return object{"Note", "ParentId", "Title", map[string]any{"ParentId": r.AccountID, "Title": subject, "Body": r.Body}}, nil
	case crm.ObjectCase:
		f := map[string]any{"AccountId": r.AccountID, "Subject": subject, "Description": r.Body}
		if c.cfg.CaseOrigin != "" {
			f["Origin"] = c.cfg.CaseOrigin
		}
		return object{"Case", "AccountId", "Subject", f}, nil
	}
	return object{}, crm.Permanent(fmt.Errorf("salesforce: unknown object %q", r.Object))
}

// Marker is how a record carries its idempotency key when no external id
// field is configured.
func Marker(key string) string { return "[hf " + key + "]" }

func withMarker(subject, key string) string {
	m := Marker(key)
	room := crm.MaxSubject - len([]rune(m)) - 1
	if r := []rune(subject); len(r) > room {
		subject = string(r[:room-1]) + "…"
	}
	return subject + " " + m
}

// Write implements crm.Connector.
func (c *Client) Write(ctx context.Context, r crm.Record) (crm.Result, error) {
	if !crm.IDPattern.MatchString(r.AccountID) {
		return crm.Result{}, crm.Permanent(fmt.Errorf("salesforce: %q is not a Salesforce record id", r.AccountID))
	}
	obj, err := c.objectFor(r)
	if err != nil {
		return crm.Result{}, err
	}
	if f := c.cfg.ExternalIDField; f != "" {
		var out struct {
			ID      string `json:"id"`
			Created bool   `json:"created"`
		}
		path := "sobjects/" + obj.name + "/" + url.PathEscape(f) + "/" + url.PathEscape(r.Key)
		if err := c.call(ctx, http.MethodPatch, path, obj.fields, &out); err != nil {
			return crm.Result{}, err
		}
		return crm.Result{ID: out.ID, Outcome: "upserted"}, nil
	}
	if r.Retry {
		id, err := c.find(ctx, obj, r)
		if err != nil {
			return crm.Result{}, err
		}
		if id != "" {
			return crm.Result{ID: id, Outcome: "found"}, nil
		}
	}
	var out struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	if err := c.call(ctx, http.MethodPost, "sobjects/"+obj.name, obj.fields, &out); err != nil {
		return crm.Result{}, err
	}
	if out.ID == "" {
		return crm.Result{}, errors.New("salesforce: create answered without an id")
	}
	return crm.Result{ID: out.ID, Outcome: "created"}, nil
}

// find looks for the record an earlier attempt may have created.
func (c *Client) find(ctx context.Context, obj object, r crm.Record) (string, error) {
	q := fmt.Sprintf("SELECT Id FROM %s WHERE %s = '%s' AND %s LIKE '%%%s' LIMIT 1",
		obj.name, obj.parentField, soqlString(r.AccountID), obj.subjectField, soqlLike(Marker(r.Key)))
	var out struct {
		Records []struct {
			ID string `json:"Id"`
		} `json:"records"`
	}
	if err := c.call(ctx, http.MethodGet, "query?q="+url.QueryEscape(q), nil, &out); err != nil {
		return "", err
	}
	if len(out.Records) == 0 {
		return "", nil
	}
	return out.Records[0].ID, nil
}

func soqlString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

func soqlLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// call makes one REST call, fetching a token first if needed and once
// more if Salesforce says the session expired.
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	for attempt := 0; ; attempt++ {
		token, instance, err := c.session(ctx)
		if err != nil {
			return err
		}
		status, raw, err := c.do(ctx, method, instance+"/services/data/"+c.cfg.APIVersion+"/"+path, token, body)
		if err != nil {
			return fmt.Errorf("salesforce: %s %s: %w", method, pathOnly(path), err)
		}
		if status == http.StatusUnauthorized && attempt == 0 && c.cfg.AccessToken == "" {
			c.forget(token)
			continue
		}
		if status >= 200 && status < 300 {
			if out != nil && len(bytes.TrimSpace(raw)) > 0 {
				if err := json.Unmarshal(raw, out); err != nil {
					return fmt.Errorf("salesforce: %s %s: decode answer: %w", method, pathOnly(path), err)
				}
			}
			return nil
		}
		err = fmt.Errorf("salesforce: %s %s: %d %s", method, pathOnly(path), status, apiError(raw))
		if retryable(status, raw) {
			return err
		}
		return crm.Permanent(err)
	}
}

// pathOnly keeps the query (which holds account ids, not secrets, but is
// long) out of errors.
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

func retryable(status int, raw []byte) bool {
	switch {
	case status >= 500, status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		return true
	case status == http.StatusForbidden && bytes.Contains(raw, []byte("REQUEST_LIMIT_EXCEEDED")):
		return true
	case status == http.StatusUnauthorized:
		return true // a static token may be rotated; the backoff gives an operator time
	}
	return false
}

// apiError condenses Salesforce's error body ([{"message","errorCode"}]).
func apiError(raw []byte) string {
	var list []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0].ErrorCode + ": " + list[0].Message
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func (c *Client) do(ctx context.Context, method, u, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, raw, nil
}

// session returns a token and the instance to call.
func (c *Client) session(ctx context.Context) (token, instance string, err error) {
	if c.cfg.AccessToken != "" {
		return c.cfg.AccessToken, c.cfg.InstanceURL, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" {
		return c.token, c.instance, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", fmt.Errorf("salesforce token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("salesforce token: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		// The answer names the problem; the credentials never appear in it.
		return "", "", fmt.Errorf("salesforce token: %d %s %s (check SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET)",
			resp.StatusCode, out.Error, out.Description)
	}
	c.token, c.instance = out.AccessToken, strings.TrimRight(out.InstanceURL, "/")
	if c.instance == "" {
		c.instance = c.cfg.InstanceURL
	}
	return c.token, c.instance, nil
}

// forget drops a token Salesforce rejected, unless another call already
// replaced it.
func (c *Client) forget(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}
