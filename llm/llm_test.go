package llm_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/holdfast/holdfast/llm"
	"github.com/holdfast/holdfast/llm/llmtest"
)

type verdict struct {
	Label string `json:"label"`
}

func TestJSONDecodesValidatesAndCaches(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t, func(r llmtest.Request) llmtest.Answer {
		return llmtest.Answer{Content: "```json\n{\"label\":\"negative\"}\n```"}
	})
	c := llm.New(llm.Config{BaseURL: fake.URL, APIKey: "k", Model: "m"})
	for range 2 {
		var v verdict
		if err := c.JSON(context.Background(), "sys", "text", &v, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if v.Label != "negative" {
			t.Fatalf("label = %q", v.Label)
		}
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || !reqs[0].JSONMode || reqs[0].System != "sys" || reqs[0].User != "text" || reqs[0].Model != "m" {
		t.Fatalf("requests = %+v, want one JSON-mode request (second answer cached)", reqs)
	}
}

func TestJSONFailuresAreErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]llmtest.Answer{
		"server error": {Status: http.StatusInternalServerError},
		"not json":     {Content: "I think it is negative"},
		"too slow":     {Content: `{"label":"x"}`, Delay: 2 * time.Second},
		"rejected":     {Content: `{"label":"maybe"}`},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			fake := llmtest.New(t, func(llmtest.Request) llmtest.Answer { return a })
			c := llm.New(llm.Config{BaseURL: fake.URL, APIKey: "k", Timeout: 300 * time.Millisecond})
			var v verdict
			err := c.JSON(context.Background(), "s", "u", &v, func() error {
				if v.Label != "negative" && v.Label != "positive" {
					return errors.New("bad label")
				}
				return nil
			})
			if err == nil {
				t.Fatalf("no error for %s", name)
			}
		})
	}
}

func TestNilClientIsDisabled(t *testing.T) {
	t.Parallel()
	c := llm.New(llm.Config{})
	var v verdict
	if err := c.JSON(context.Background(), "s", "u", &v, nil); !errors.Is(err, llm.ErrDisabled) {
		t.Fatalf("err = %v, want ErrDisabled", err)
	}
}
