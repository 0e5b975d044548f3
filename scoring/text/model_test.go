package text

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The embedded models are the ones the recipe made: each file's SHA-256 is
// the recorded one, and the recorded inputs are the data in the repository
// (so changing the data without `make train-text` fails here).
func TestEmbeddedModelsMatchRecipe(t *testing.T) {
	t.Parallel()
	rec, err := EmbeddedRecipe()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != ModelVersion {
		t.Errorf("recipe version %q, code says %q", rec.Version, ModelVersion)
	}
	for name, b := range EmbeddedModelFiles() {
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != rec.Outputs[name] {
			t.Errorf("embedded %s has SHA-256 %s, recipe records %s: run make train-text", name, got, rec.Outputs[name])
		}
		if len(b) > 20<<20 {
			t.Errorf("%s is %d bytes, over 20 MB", name, len(b))
		}
	}
	for name, want := range rec.Inputs {
		dir, file := filepath.Split(name)
		var path string
		switch strings.TrimSuffix(dir, "/") {
		case "data", "testdata":
			path = filepath.Join(dir, file)
		default:
			continue // TweetEval lives outside the repository
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s changed since training (SHA-256 %s, recipe %s): run make train-text", path, got, want)
		}
	}
}

// Held-out intent: the rows of data/churn_intent.tsv whose template group
// was never trained on. Trained (make train-text): precision 0.949, recall
// 0.827 with no competitors configured, 0.950 / 0.844 with the rivals named.
func TestIntentHeldOut(t *testing.T) {
	t.Parallel()
	rows, err := ParseIntentFile(filepath.Join("data", "churn_intent.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAnalyzer(t)
	var tp, fp, fn, n, catOK float64
	for _, r := range rows {
		if r.Split != "heldout" {
			continue
		}
		n++
		res := a.Analyze(r.Text)
		want := r.Category != IntentNone
		switch {
		case res.ChurnIntent && want:
			tp++
			if res.Intent.Category == r.Category {
				catOK++
			}
		case res.ChurnIntent && !want:
			fp++
			t.Logf("false positive %.2f %s: %s", res.Intent.Confidence, res.Intent.Category, r.Text)
		case !res.ChurnIntent && want:
			fn++
			t.Logf("missed %s (%.2f): %s", r.Category, res.Intent.Confidence, r.Text)
		}
	}
	p, rec := tp/(tp+fp), tp/(tp+fn)
	t.Logf("intent held-out n=%.0f: precision %.3f recall %.3f, category right in %.0f of %.0f found", n, p, rec, catOK, tp)
	if n < 250 || p < 0.92 || rec < 0.80 {
		t.Errorf("held-out intent precision %.3f recall %.3f (n=%.0f), want >= 0.92 / 0.80", p, rec, n)
	}
}

// Held-out sentiment: TweetEval's val split, never trained on. It lives
// outside the repository (HOLDFAST_TWEETEVAL or ../shared/data), so the
// test skips without it. Trained: model accuracy 0.627 and macro recall
// 0.627; the lexicon layer 0.568 / 0.595; govader 0.573 / 0.599.
func TestSentimentHeldOutTweetEval(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("HOLDFAST_TWEETEVAL")
	for _, d := range []string{"../../../shared/data/tweeteval-sentiment", "../../../../shared/data/tweeteval-sentiment", "/work/shared/data/tweeteval-sentiment"} {
		if dir != "" {
			break
		}
		if _, err := os.Stat(filepath.Join(d, "val_text.txt")); err == nil {
			dir = d
		}
	}
	if dir == "" {
		t.Skip("TweetEval not found; set HOLDFAST_TWEETEVAL")
	}
	texts, gold, err := ReadTweetEval(dir, "val")
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAnalyzer(t)
	m, l, v := a.HeldOutComparison(texts, gold)
	t.Logf("TweetEval val: model %s | lexicon layer %s | govader %s", m, l, v)
	if m.Accuracy < 0.61 || m.MacroRecall < 0.60 {
		t.Errorf("model on TweetEval val: %s, want accuracy >= 0.61 and macro recall >= 0.60", m)
	}
	if m.Accuracy < v.Accuracy+0.03 || m.MacroRecall < v.MacroRecall+0.01 {
		t.Errorf("model %s does not beat govader %s", m, v)
	}
}

func TestPoliteWordsAreNotPraise(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	for _, s := range []string{
		"Please help, the export is failing again.",
		"Would appreciate a reply, this is my fourth email.",
		"Please send the invoice with our PO number.",
		"Could you please help us set up SSO?",
		"Kindly advise on the SSO setup.",
		"We would really appreciate an update on the sync issue.",
		"Help! Nobody can log in.",
		"Please, I just need someone to answer.",
	} {
		if r := a.Analyze(s); r.Label == Positive {
			t.Errorf("%q: positive (%.2f)", s, r.Sentiment)
		}
	}
	for _, s := range []string{
		"Please help, the export is failing again.",
		"Help! Nobody can log in.",
		"I would appreciate it if someone read my ticket before closing it.",
	} {
		if r := a.Analyze(s); r.Label != Negative {
			t.Errorf("complaint %q: %s (%.2f)", s, r.Label, r.Sentiment)
		}
	}
	// Praise keeps its warmth.
	for _, s := range []string{"Really appreciate your help, that fixed it!", "Thank you so much for the help!"} {
		if r := a.Analyze(s); r.Label != Positive {
			t.Errorf("praise %q: %s (%.2f)", s, r.Label, r.Sentiment)
		}
	}
}

func TestEmojiValence(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	for _, c := range []struct {
		text string
		want Label
	}{
		{"The new dashboard 😍", Positive},
		{"renewal signed 🎉🎉", Positive},
		{"export broken again 😡", Negative},
		{"sync down 😞", Negative},
		{"new release today :)", Positive},
		{"still nothing :(", Negative},
		{"thanks:)", Positive},
	} {
		if r := a.Analyze(c.text); r.Label != c.want {
			t.Errorf("%q: %s (%.2f), want %s", c.text, r.Label, r.Sentiment, c.want)
		}
	}
	// The emoji carries the valence: the same words without it score lower.
	with, without := a.Analyze("The new dashboard 😍").Sentiment, a.Analyze("The new dashboard").Sentiment
	if with <= without {
		t.Errorf("😍 adds nothing: %.2f with, %.2f without", with, without)
	}
	ev, err := loadEmojiValence()
	if err != nil {
		t.Fatal(err)
	}
	if ev['😂'] <= 0 || ev['😡'] >= 0 || len(ev) < 500 {
		t.Errorf("emoji ranking: 😂 %.2f 😡 %.2f, %d emoji", ev['😂'], ev['😡'], len(ev))
	}
}

func TestOwnNamesCarryNoSentimentAndAreNoCompetitor(t *testing.T) {
	t.Parallel()
	comps := []Competitor{{Name: "Delta"}, {Name: "Gainsight"}}
	plain, err := NewAnalyzer(comps)
	if err != nil {
		t.Fatal(err)
	}
	own, err := NewAnalyzer(comps, WithOwnNames([]string{"Delta", "@DeltaCare", "Joy Support"}))
	if err != nil {
		t.Fatal(err)
	}
	// "Delta" is a competitor in the plain analyzer; as our own name it never is.
	s := "@DeltaCare Delta's app lost my booking again, and the chat agent hung up."
	if r := plain.Analyze(s); len(r.Competitors) == 0 {
		t.Fatalf("plain: no mention in %q", s)
	}
	r := own.Analyze(s)
	if len(r.Competitors) != 0 {
		t.Errorf("own name taken as a competitor: %+v", r.Competitors)
	}
	if r.Label != Negative {
		t.Errorf("%q: %s (%.2f)", s, r.Label, r.Sentiment)
	}
	// A name that is a warm word adds nothing: the lexicon score is that
	// of the text without it.
	for _, c := range []struct{ with, without string }{
		{"Joy Support, my refund still hasn't arrived.", "my refund still hasn't arrived."},
		{"@DeltaCare where is my bag", "where is my bag"},
	} {
		a, b := own.Analyze(c.with), own.Analyze(c.without)
		if a.Lexicon != b.Lexicon {
			t.Errorf("%q: lexicon %.3f, without the name %.3f", c.with, a.Lexicon, b.Lexicon)
		}
	}
	// Other competitors are still found.
	if r := own.Analyze("Delta support said Gainsight does this better."); len(r.Competitors) != 1 || r.Competitors[0].Competitor != "Gainsight" {
		t.Errorf("mentions %+v", r.Competitors)
	}
	if err := ValidateOwnNames([]string{"Acme", "@"}); err == nil || !strings.Contains(err.Error(), "[1]") {
		t.Errorf("ValidateOwnNames: %v", err)
	}
}

func TestMultilingualIntent(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	for _, c := range []struct {
		text string
		want IntentCategory // IntentNone: no high intent
	}{
		{"Hemos decidido cancelar el contrato a final de año.", IntentCancel},
		{"No renovaremos la suscripción en marzo.", IntentNonRenewal},
		{"Wir kündigen den Vertrag zum Jahresende.", IntentCancel},
		{"Wir werden den Vertrag nicht verlängern.", IntentNonRenewal},
		{"Nous allons résilier l'abonnement.", IntentCancel},
		{"Nous ne renouvellerons pas le contrat.", IntentNonRenewal},
		{"Vamos cancelar a assinatura no próximo mês.", IntentCancel},
		{"Vamos mudar para o Zendesk em abril.", IntentSwitch},
		{"Wir wechseln im Sommer zu HubSpot.", IntentSwitch},
		{"Tuve que cancelar la reunión del jueves.", IntentNone},
		{"Wie lang ist die Kündigungsfrist?", IntentNone},
	} {
		r := a.Analyze(c.text)
		switch {
		case c.want == IntentNone && r.ChurnIntent:
			t.Errorf("%q: intent %s (%.2f), want none", c.text, r.Intent.Category, r.Intent.Confidence)
		case c.want != IntentNone && !r.ChurnIntent:
			t.Errorf("%q: no high intent (%s %.2f), want %s", c.text, r.Intent.Category, r.Intent.Confidence, c.want)
		}
	}
}

func TestIntentEvidence(t *testing.T) {
	t.Parallel()
	a := newTestAnalyzer(t)
	s := "Thanks for the call yesterday. We are planning to cancel and switch to Gainsight, support has been useless. Can you send the final invoice?"
	r := a.Analyze(s)
	if !r.ChurnIntent || !r.Intent.High {
		t.Fatalf("not found: %+v", r.Intent)
	}
	if r.Intent.Quote != "We are planning to cancel and switch to Gainsight, support has been useless." || s[r.Intent.Start:r.Intent.End] != r.Intent.Quote {
		t.Errorf("quote %q at %d:%d", r.Intent.Quote, r.Intent.Start, r.Intent.End)
	}
	if r.Intent.Category != IntentSwitch && r.Intent.Category != IntentCancel {
		t.Errorf("category %s", r.Intent.Category)
	}
	if r.Intent.Confidence < a.IntentHighConfidence() || r.Intent.Confidence > 1 {
		t.Errorf("confidence %v", r.Intent.Confidence)
	}
	// Low confidence is shown, not acted on.
	for _, in := range r.Intents {
		if in.High != (in.Confidence >= a.IntentHighConfidence()) || in.Confidence < IntentShownConfidence {
			t.Errorf("intent %+v", in)
		}
	}
	if r := a.Analyze("What is the cancellation fee if we leave early?"); r.ChurnIntent {
		t.Errorf("policy question read as intent: %+v", r.Intent)
	}
}
