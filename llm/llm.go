// Package llm is Holdfast's optional language model: any OpenAI-compatible
// chat completions endpoint, asked for strict JSON that the caller
// validates. Callers always have an offline path: an error or a timeout here
// means "use the deterministic result", never "stop the flow", and nothing
// the model says triggers an action by itself.
package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Config is the environment's OPENAI_BASE_URL, OPENAI_API_KEY and
// OPENAI_MODEL. An empty BaseURL and APIKey mean no model is configured.
type Config struct {
	BaseURL string
	APIKey  string
	Model   string
	Timeout time.Duration // per call; default 8 s
}

// Enabled reports whether a model is configured.
func (c Config) Enabled() bool { return c.APIKey != "" || c.BaseURL != "" }

// ErrDisabled is returned by a nil or unconfigured Client.
var ErrDisabled = errors.New("llm: not configured")

// Client asks the model for JSON. A nil *Client is valid and always
// returns ErrDisabled, so callers need no nil checks.
type Client struct {
	api     *openai.Client
	model   string
	timeout time.Duration

	mu    sync.Mutex
	cache map[string][]byte // by hash of model, prompt and input; bounded
}

// maxCache bounds the in-process answer cache; it is cleared when full.
const maxCache = 4096

// New returns a client, or nil when cfg is not enabled.
func New(cfg Config) *Client {
	if !cfg.Enabled() {
		return nil
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	model := cfg.Model
	if model == "" {
		model = "gpt-4o-mini"
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 8 * time.Second
	}
	return &Client{api: openai.NewClientWithConfig(oc), model: model, timeout: timeout, cache: map[string][]byte{}}
}

// JSON sends system and user prompts, asks for a JSON object, and decodes
// the answer into out. validate (optional) checks the decoded value; an
// answer that fails it is an error, so callers fall back. Answers are
// cached by the hash of model, prompts and the output type.
func (c *Client) JSON(ctx context.Context, system, user string, out any, validate func() error) error {
	if c == nil {
		return ErrDisabled
	}
	key := c.key(system, user, fmt.Sprintf("%T", out))
	c.mu.Lock()
	raw, hit := c.cache[key]
	c.mu.Unlock()
	if !hit {
		var err error
		raw, err = c.call(ctx, system, user)
		if err != nil {
			return err
		}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("llm: answer is not the JSON asked for: %w", err)
	}
	if validate != nil {
		if err := validate(); err != nil {
			return fmt.Errorf("llm: answer rejected: %w", err)
		}
	}
	if !hit {
		c.mu.Lock()
		if len(c.cache) >= maxCache {
			clear(c.cache)
		}
		c.cache[key] = raw
		c.mu.Unlock()
	}
	return nil
}

func (c *Client) call(ctx context.Context, system, user string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.api.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
		Temperature:    0,
		ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject},
	})
	if err != nil {
		return nil, fmt.Errorf("llm: chat completion: %w", err)
	}
	if len(resp.Choices) == 0 {
		return nil, errors.New("llm: no choices in answer")
	}
	content := strings.TrimSpace(resp.Choices[0].Message.Content)
	// Some compatible servers wrap JSON in a code fence despite the format.
	content = strings.TrimPrefix(content, "```json")
	content = strings.TrimPrefix(content, "```")
	content = strings.TrimSuffix(content, "```")
	return []byte(strings.TrimSpace(content)), nil
}

func (c *Client) key(parts ...string) string {
	h := sha256.New()
	h.Write([]byte(c.model))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
