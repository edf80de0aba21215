package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// metrics are the daemon's Prometheus series, on its own registry.
type metrics struct {
	reg *prometheus.Registry

	probeDuration *prometheus.HistogramVec
	probeFailures *prometheus.CounterVec
	checks        *prometheus.CounterVec
	skipped       *prometheus.CounterVec
	drift         *prometheus.GaugeVec
	driftSeverity *prometheus.GaugeVec
	tools         *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	listChanged   *prometheus.CounterVec
	watching      *prometheus.GaugeVec
	authRequired  *prometheus.GaugeVec

	alerts        *prometheus.CounterVec
	notifications *prometheus.CounterVec
	outbox        *prometheus.GaugeVec

	reloadOK     prometheus.Gauge
	reloadOKTime prometheus.Gauge
	reloads      *prometheus.CounterVec
	configInfo   *prometheus.GaugeVec
	lastCycle    prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		reg: reg,
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mcpdrift_probe_duration_seconds",
			Help:    "Time to probe a server (connect, list everything, close), successful or not.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"server"}),
		probeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_probe_failures_total",
			Help: "Probes that failed (unreachable, timeout, protocol violation, limit exceeded).",
		}, []string{"server"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_checks_total",
			Help: "Completed checks by resulting status (ok, drift, baselined, unapproved, error).",
		}, []string{"server", "status"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_checks_skipped_total",
			Help: "Scheduled checks skipped because the previous check of the server was still running.",
		}, []string{"server"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_drift",
			Help: "1 while the server's latest snapshot differs from its baseline (or it has none), else 0.",
		}, []string{"server"}),
		driftSeverity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_drift_severity",
			Help: "Highest severity of the server's pending drift: 0 none, 1 info, 2 low, 3 medium, 4 high, 5 critical.",
		}, []string{"server"}),
		tools: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_tools",
			Help: "Tools in the server's latest snapshot.",
		}, []string{"server"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_last_success_timestamp_seconds",
			Help: "When the server was last probed successfully.",
		}, []string{"server"}),
		listChanged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_list_changed_total",
			Help: "list_changed notifications received on watch sessions (each a reason to re-snapshot, never drift).",
		}, []string{"server"}),
		watching: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_watch_connected",
			Help: "1 while a watch session to the server is open.",
		}, []string{"server"}),
		authRequired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_auth_required",
			Help: "1 while the server's OAuth grant needs a person (mcpdrift auth login), else 0.",
		}, []string{"server"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_alerts_total",
			Help: "Alerts raised by kind (drift, unreachable, resolved, reminder), before routing.",
		}, []string{"kind"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_notifications_total",
			Help: "Delivery attempts by notifier and outcome (delivered, retried, failed, too_old, undecodable).",
		}, []string{"notifier", "outcome"}),
		outbox: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_outbox_pending",
			Help: "Deliveries waiting in the outbox per notifier.",
		}, []string{"notifier"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcpdrift_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded (or none was attempted), 0 if it failed and the previous configuration still runs.",
		}),
		reloadOKTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcpdrift_config_last_reload_success_timestamp_seconds",
			Help: "When the running configuration was loaded.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcpdrift_config_reloads_total",
			Help: "Configuration reloads by result (success, failure).",
		}, []string{"result"}),
		configInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mcpdrift_config_info",
			Help: "Always 1; the hash label is the sha256 of the running configuration file.",
		}, []string{"hash"}),
		lastCycle: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcpdrift_last_successful_cycle_timestamp_seconds",
			Help: "The latest time by which every enabled server had completed a check since the previous cycle.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.probeDuration, m.probeFailures, m.checks, m.skipped, m.drift, m.driftSeverity, m.tools,
		m.lastSuccess, m.listChanged, m.watching, m.alerts, m.notifications, m.outbox,
		m.reloadOK, m.reloadOKTime, m.reloads, m.configInfo, m.lastCycle, m.authRequired,
	)
	m.reloadOK.Set(1)
	return m
}

// observeCheck records the outcome of one check.
func (m *metrics) observeCheck(rs report.Server, at time.Time) {
	name := rs.Server
	m.checks.WithLabelValues(name, rs.Status).Inc()
	m.authRequired.WithLabelValues(name).Set(map[bool]float64{true: 1}[rs.AuthRequired])
	if rs.Status == report.StatusError {
		return
	}
	m.lastSuccess.WithLabelValues(name).Set(float64(at.Unix()))
	m.observeDrift(rs)
}

// observeDrift records a server's pending drift.
func (m *metrics) observeDrift(rs report.Server) {
	drifting := rs.Status == report.StatusDrift || (rs.Status == report.StatusUnapproved && rs.Snapshot != nil)
	v := 0.0
	sev := severity.None
	if drifting {
		v = 1
		sev = rs.MaxSeverity()
	}
	m.drift.WithLabelValues(rs.Server).Set(v)
	m.driftSeverity.WithLabelValues(rs.Server).Set(float64(sev))
}

// forget removes the series of a server no longer configured, so that a
// reload that removes servers does not leave stale series behind.
func (m *metrics) forget(server string) {
	for _, v := range []interface{ DeleteLabelValues(...string) bool }{
		m.probeDuration, m.probeFailures, m.skipped, m.drift, m.driftSeverity, m.tools,
		m.lastSuccess, m.listChanged, m.watching, m.authRequired,
	} {
		v.DeleteLabelValues(server)
	}
	m.checks.DeletePartialMatch(prometheus.Labels{"server": server})
}

// configLoaded records a successful (re)load of the configuration.
func (m *metrics) configLoaded(hash string, at time.Time) {
	m.reloadOK.Set(1)
	m.reloadOKTime.Set(float64(at.Unix()))
	m.configInfo.Reset()
	m.configInfo.WithLabelValues(hash).Set(1)
}
