package churn

// The churn taxonomy: why customers leave, as the root-cause flows (churned
// accounts, detractor loops, win-back) record it. NPS detractor loops import
// it too, with SupportExperience added.

// Cause is one root-cause category.
type Cause string

const (
	ICPMiss             Cause = "icp_miss"
	FeatureOverpromise  Cause = "feature_overpromise"
	TimelineOverpromise Cause = "timeline_overpromise"
	PhantomChampion     Cause = "phantom_champion"
	ProductDeficiency   Cause = "product_deficiency"
	CompetitiveLoss     Cause = "competitive_loss"
	BusinessChange      Cause = "business_change"
	Pricing             Cause = "pricing"
	// SupportExperience is used by detractor loops (a bad support
	// experience), not by churn records, where it shows up as a symptom.
	SupportExperience Cause = "support_experience"
)

// Info describes a cause for people choosing one.
type Info struct {
	Cause Cause
	Label string
	// Definition is shown next to the choice so tags mean the same thing
	// for every CSM.
	Definition string
	// SalesAttributable causes go back to the AE and sales manager: the
	// deal, not the product or the market, predicted the churn.
	SalesAttributable bool
}

// Causes is the churn taxonomy in display order (without SupportExperience).
var Causes = []Info{
	{ICPMiss, "ICP miss", "The customer was never a fit for the product: size, use case or industry outside our ideal customer profile.", true},
	{FeatureOverpromise, "Feature overpromise", "The deal was won on a capability the product does not have or does not do as described.", true},
	{TimelineOverpromise, "Timeline overpromise", "A feature or integration was promised by a date we did not meet.", true},
	{PhantomChampion, "Phantom champion", "The person who drove the purchase had no real authority or left, and nobody else owned the product.", true},
	{ProductDeficiency, "Product deficiency", "The product failed the customer on quality, reliability or a gap found after purchase.", false},
	{CompetitiveLoss, "Competitive loss", "The customer moved to a competitor that served them better.", false},
	{BusinessChange, "Business change", "Acquisition, budget cut, layoffs or a strategy change unrelated to us.", false},
	{Pricing, "Pricing", "The price or packaging no longer matched the value the customer saw.", false},
}

// DetractorCauses is the taxonomy plus support experience, for NPS loops.
var DetractorCauses = append(append([]Info(nil), Causes...),
	Info{SupportExperience, "Support experience", "Slow, unhelpful or repeated support interactions drove the score.", false})

// Lookup finds a cause among all causes including SupportExperience.
func Lookup(c Cause) (Info, bool) {
	for _, i := range DetractorCauses {
		if i.Cause == c {
			return i, true
		}
	}
	return Info{}, false
}

// SalesAttributable reports whether the cause goes back to Sales.
func (c Cause) SalesAttributable() bool {
	i, ok := Lookup(c)
	return ok && i.SalesAttributable
}
