package connectors

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/holdfast/holdfast/internal/ingest"
	"github.com/holdfast/holdfast/scoring"
)

// Gong's automation rules can sign their webhook with a JWT in the
// Authorization header (the rule's "Signed JWT header" option): RS256 with
// the key pair whose public half the rule shows, carrying the URL it
// called (webhook_url), the body's SHA-256 (body_sha256) and an expiry.
type gong struct {
	key       *rsa.PublicKey
	settings  ToolSettings
	publicURL string
}

func (*gong) name() string    { return Gong }
func (g *gong) enabled() bool { return g.key != nil }

// GongClaims are what Gong's webhook JWT asserts.
type GongClaims struct {
	WebhookURL string `json:"webhook_url"`
	BodySHA256 string `json:"body_sha256"`
	Exp        int64  `json:"exp"`
	Iat        int64  `json:"iat,omitempty"`
}

func b64url(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// verifyJWT checks an RS256 JWT's signature and returns its claims.
func verifyJWT(token string, key *rsa.PublicKey) (GongClaims, error) {
	var c GongClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errors.New("the Authorization header is not a JWT")
	}
	head, err := b64url(parts[0])
	if err != nil {
		return c, errors.New("the JWT header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(head, &h) != nil || h.Alg != "RS256" {
		return c, errors.New("the JWT is not signed with RS256")
	}
	sig, err := b64url(parts[2])
	if err != nil {
		return c, errors.New("the JWT signature is not base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return c, errors.New("the JWT signature does not verify with GONG_WEBHOOK_PUBLIC_KEY")
	}
	payload, err := b64url(parts[1])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, errors.New("the JWT claims are not JSON")
	}
	return c, nil
}

func (g *gong) verify(r *http.Request, body []byte, now time.Time) error {
	token := strings.TrimSpace(r.Header.Get("Authorization"))
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
	if token == "" {
		return errors.New("unsigned: the Authorization header must carry Gong's signed JWT")
	}
	c, err := verifyJWT(token, g.key)
	if err != nil {
		return err
	}
	if c.Exp == 0 || !now.Before(time.Unix(c.Exp, 0)) {
		return errors.New("stale: the JWT has expired")
	}
	sum := sha256.Sum256(body)
	if !strings.EqualFold(c.BodySHA256, hex.EncodeToString(sum[:])) && c.BodySHA256 != base64.StdEncoding.EncodeToString(sum[:]) {
		return errors.New("the JWT's body_sha256 does not match the body")
	}
	if c.WebhookURL != requestURL(r, g.publicURL) {
		return errors.New("the JWT's webhook_url is not this endpoint (is connectors.public_url the URL set in Gong?)")
	}
	return nil
}

// gongPayload is what an automation rule posts: the call as Gong's API
// returns it (metaData, parties, context, content) and whether it is a
// test from the rule's page.
type gongPayload struct {
	IsTest   bool `json:"isTest"`
	CallData *struct {
		MetaData struct {
			ID       idString  `json:"id"`
			URL      string    `json:"url"`
			Title    string    `json:"title"`
			Started  time.Time `json:"started"`
			Duration float64   `json:"duration"`
		} `json:"metaData"`
		Parties []struct {
			Name         string `json:"name"`
			EmailAddress string `json:"emailAddress"`
			Affiliation  string `json:"affiliation"`
		} `json:"parties"`
		Context []struct {
			System  string `json:"system"`
			Objects []struct {
				ObjectType string   `json:"objectType"`
				ObjectID   idString `json:"objectId"`
			} `json:"objects"`
		} `json:"context"`
		Content *struct {
			Brief     string `json:"brief"`
			KeyPoints []struct {
				Text string `json:"text"`
			} `json:"keyPoints"`
			Outline []struct {
				Section string `json:"section"`
			} `json:"outline"`
		} `json:"content"`
		Transcript []struct {
			Sentences []struct {
				Text string `json:"text"`
			} `json:"sentences"`
		} `json:"transcript"`
	} `json:"callData"`
}

func (g *gong) parse(body []byte, now time.Time) ([]Event, error) {
	var p gongPayload
	if err := decodeJSON(body, &p); err != nil {
		return nil, err
	}
	if p.CallData == nil || p.CallData.MetaData.ID == "" {
		return nil, errors.New("not a Gong automation rule payload (want callData.metaData.id)")
	}
	if p.IsTest {
		return nil, nil // the rule's test button: verified, nothing stored
	}
	call := p.CallData
	id := "call-" + string(call.MetaData.ID)
	var crmID, domain string
	for _, c := range call.Context {
		for _, o := range c.Objects {
			if crmID == "" && (o.ObjectType == "Account" || o.ObjectType == "Company") {
				crmID = string(o.ObjectID)
			}
		}
	}
	for _, party := range call.Parties {
		if domain == "" && strings.EqualFold(party.Affiliation, "External") {
			domain = emailDomain(party.EmailAddress)
		}
	}
	var parts []string
	if c := call.Content; c != nil {
		parts = append(parts, c.Brief)
		for _, k := range c.KeyPoints {
			parts = append(parts, "- "+k.Text)
		}
	}
	if len(strings.TrimSpace(strings.Join(parts, ""))) == 0 {
		// Without Gong's brief, the transcript is the call's words.
		for _, t := range call.Transcript {
			for _, s := range t.Sentences {
				parts = append(parts, s.Text)
			}
		}
	}
	text := joinText(append([]string{call.MetaData.Title}, parts...)...)
	at := call.MetaData.Started
	if at.IsZero() || at.After(now) {
		at = now
	}
	return []Event{{
		ID:   id,
		Keys: orderKeys(g.settings.MapBy, Key{KeyCRMID, crmID}, Key{KeyEmailDomain, domain}),
		Signals: []ingest.SignalIn{{Kind: string(scoring.KindCallNote), Source: Gong, IdempotencyKey: id, OccurredAt: at, Text: text,
			Metadata: metadata(map[string]any{"call_id": string(call.MetaData.ID), "url": call.MetaData.URL, "title": call.MetaData.Title,
				"duration_seconds": call.MetaData.Duration})}},
	}}, nil
}

// SignGongJWT makes the JWT Gong would send for body at url, for tests and
// `holdfast connectors test` (with a private key of one's own).
func SignGongJWT(key *rsa.PrivateKey, url string, body []byte, exp time.Time) (string, error) {
	sum := sha256.Sum256(body)
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(GongClaims{WebhookURL: url, BodySHA256: hex.EncodeToString(sum[:]), Exp: exp.Unix(), Iat: exp.Add(-5 * time.Minute).Unix()})
	if err != nil {
		return "", err
	}
	signing := head + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
