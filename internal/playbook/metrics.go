package playbook

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count what the playbook does, per replica, after each change
// commits.
type Metrics struct {
	opened      *prometheus.CounterVec // by band at open
	claims      prometheus.Counter
	claimTime   prometheus.Histogram     // seconds from due in Slack to claim
	nudges      *prometheus.CounterVec   // level: owner, manager
	steps       *prometheus.CounterVec   // by step key
	resolutions *prometheus.CounterVec   // outcome: recovered, churned, dismissed
	resolveTime *prometheus.HistogramVec // seconds from open to resolution, by outcome
	live        prometheus.Counter       // live leadership alerts queued
}

// NewMetrics registers the playbook's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	hours := []float64{900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600}
	days := []float64{86400, 3 * 86400, 7 * 86400, 14 * 86400, 21 * 86400, 30 * 86400, 60 * 86400, 90 * 86400}
	m := &Metrics{
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "holdfast_playbooks_opened_total",
			Help: "At-risk playbooks opened, by band of the alert that opened them."}, []string{"band"}),
		claims: prometheus.NewCounter(prometheus.CounterOpts{Name: "holdfast_playbook_claims_total",
			Help: "Playbooks claimed."}),
		claimTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "holdfast_playbook_claim_seconds",
			Help: "Time from an alert being due in Slack to its playbook's claim.", Buckets: hours}),
		nudges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "holdfast_playbook_nudges_total",
			Help: "Unclaimed-alert nudges, by who was told (owner, manager)."}, []string{"level"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "holdfast_playbook_steps_total",
			Help: "Playbook steps recorded, by step."}, []string{"step"}),
		resolutions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "holdfast_playbook_resolutions_total",
			Help: "Playbooks closed, by outcome."}, []string{"outcome"}),
		resolveTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "holdfast_playbook_resolution_seconds",
			Help: "Time from a playbook's opening to its resolution, by outcome.", Buckets: days}, []string{"outcome"}),
		live: prometheus.NewCounter(prometheus.CounterOpts{Name: "holdfast_live_risk_alerts_total",
			Help: "Live leadership alerts queued (critical alerts and recoveries)."}),
	}
	reg.MustRegister(m.opened, m.claims, m.claimTime, m.nudges, m.steps, m.resolutions, m.resolveTime, m.live)
	return m
}
