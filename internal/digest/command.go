package digest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Usage is the /digest help text.
const Usage = "*/digest* posts a roll-up of account risk to this channel.\n" +
	"• `/digest subscribe daily|weekly [risk] [competitors] [sentiment] [min_arr=50k] [tier=Enterprise] [tz=Europe/Berlin] [at=09:00]`\n" +
	"• `/digest subscribe live [risk] [min_arr=250k] [tier=Enterprise]`: new critical churn-risk alerts and recoveries, as they happen\n" +
	"• `/digest list`: this channel's subscriptions\n" +
	"• `/digest unsubscribe [daily|weekly|live]`\n" +
	"• `/digest preview [daily|weekly]`: the digest as of now, only to you\n" +
	"Topics default to all three. A channel subscribed to competitors or sentiment also gets those alerts as they happen."

// Command is a parsed /digest.
type Command struct {
	Action    string // subscribe, list, unsubscribe, preview, help
	Frequency string // "" when not given
	Topics    []string
	MinARR    float64
	Tier      string
	Timezone  string // "" = default
	SendAt    string // "" = default
}

// ParseCommand reads the text after /digest. Errors are written for the
// person who typed it.
func ParseCommand(text string) (Command, error) {
	f := strings.Fields(text)
	if len(f) == 0 {
		return Command{Action: "help"}, nil
	}
	c := Command{Action: strings.ToLower(f[0])}
	args := f[1:]
	switch c.Action {
	case "help":
		return c, nil
	case "list":
		if len(args) > 0 {
			return c, errors.New("`/digest list` takes no options")
		}
		return c, nil
	case "unsubscribe":
		if len(args) > 1 {
			return c, errors.New("usage: `/digest unsubscribe [daily|weekly|live]`")
		}
		if len(args) == 1 {
			fr := strings.ToLower(args[0])
			if fr != Daily && fr != Weekly && fr != Live {
				return c, fmt.Errorf("%q is not daily, weekly or live", args[0])
			}
			c.Frequency = fr
		}
		return c, nil
	case "preview":
		if len(args) > 1 {
			return c, errors.New("usage: `/digest preview [daily|weekly]`")
		}
		if len(args) == 1 {
			fr := strings.ToLower(args[0])
			if fr == Live {
				// Live alerts are posted as they happen; there is no roll-up to show.
				return c, errors.New("live subscriptions post alerts as they happen and have no digest to preview; try `/digest preview daily`")
			}
			if fr != Daily && fr != Weekly {
				return c, fmt.Errorf("%q is not daily or weekly", args[0])
			}
			c.Frequency = fr
		}
		return c, nil
	case "subscribe":
	default:
		return c, fmt.Errorf("I don't know `/digest %s`", f[0])
	}
	if len(args) == 0 {
		return c, errors.New("say how often: `/digest subscribe daily`, `/digest subscribe weekly` or `/digest subscribe live`")
	}
	c.Frequency = strings.ToLower(args[0])
	if c.Frequency != Daily && c.Frequency != Weekly && c.Frequency != Live {
		return c, fmt.Errorf("%q is not daily, weekly or live", args[0])
	}
	for _, a := range args[1:] {
		key, val, hasVal := strings.Cut(a, "=")
		key = strings.ToLower(key)
		switch {
		case !hasVal && slices.Contains(Topics, key):
			if !slices.Contains(c.Topics, key) {
				c.Topics = append(c.Topics, key)
			}
		case !hasVal:
			return c, fmt.Errorf("%q is not a topic (risk, competitors, sentiment) or an option (min_arr=, tier=, tz=, at=)", a)
		case val == "":
			return c, fmt.Errorf("%s= needs a value", key)
		case key == "min_arr":
			v, err := ParseMoney(val)
			if err != nil {
				return c, fmt.Errorf("min_arr=%s: %w", val, err)
			}
			c.MinARR = v
		case key == "tier":
			if len(val) > 60 {
				return c, errors.New("tier= is longer than 60 characters")
			}
			c.Tier = val
		case key == "tz":
			c.Timezone = val
		case key == "at":
			if _, _, err := parseClock(val); err != nil {
				return c, fmt.Errorf("at=%s: want HH:MM, like at=09:00", val)
			}
			c.SendAt = val
		default:
			return c, fmt.Errorf("%q is not an option (min_arr=, tier=, tz=, at=)", key+"=")
		}
	}
	slices.SortFunc(c.Topics, func(a, b string) int { return slices.Index(Topics, a) - slices.Index(Topics, b) })
	if c.Frequency == Live {
		return c, checkLive(&c)
	}
	return c, nil
}

// checkLive narrows a live subscription to what it can carry: churn risk
// only (competitor and sentiment alerts already arrive live with a daily or
// weekly subscription), and no send time, since nothing is scheduled.
func checkLive(c *Command) error {
	for _, t := range c.Topics {
		if t != TopicRisk {
			return fmt.Errorf("live subscriptions carry churn risk only; %s alerts already arrive here as they happen "+
				"with `/digest subscribe daily %s` or `/digest subscribe weekly %s`", t, t, t)
		}
	}
	switch {
	case c.Timezone != "":
		return errors.New("tz= is for daily and weekly digests; live alerts are posted as they happen")
	case c.SendAt != "":
		return errors.New("at= is for daily and weekly digests; live alerts are posted as they happen")
	}
	c.Topics = []string{TopicRisk}
	return nil
}

// ParseMoney reads an amount like 50000, 50k, 1.5M or $50,000.
func ParseMoney(s string) (float64, error) {
	t := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(s, ",", ""), "$"))
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v >= 0) || v*mult > 1e12 { // !(v >= 0) also refuses NaN
		return 0, errors.New("want an amount like 50000, 50k or 1.5M")
	}
	return v * mult, nil
}
