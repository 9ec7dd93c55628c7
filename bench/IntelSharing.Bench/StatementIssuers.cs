using System.Text.RegularExpressions;

namespace IntelSharing.Bench;

/// <summary>
/// Who issues a statement, told from its text: pg_stat_statements keeps no application name, and the product's SQL is
/// distinct enough per component. Statements several components share (BEGIN, COMMIT, the outbox's event and delivery
/// INSERTs, which correlation events use too) are attributed to their most frequent issuer and say so.
/// </summary>
public static partial class StatementIssuers
{
    public const string Request = "request (POST /api/v1/alerts)";
    public const string Correlation = "correlation worker";
    public const string Feed = "feed sequencer";
    public const string Dispatcher = "dispatcher (claims, outcomes, gauges)";
    public const string Audit = "audit sealer";
    public const string Keys = "API-key usage flush";
    public const string Shared = "transaction control (every writer)";
    public const string Other = "other";

    private static readonly (Regex Pattern, string Issuer)[] Rules =
    [
        (new Regex(@"^(BEGIN|COMMIT|ROLLBACK|SELECT pg_advisory_xact_lock)", RegexOptions.IgnoreCase), Shared),
        // Written by the request's own batch, though their tables belong to the workers.
        (new Regex(@"^INSERT INTO correlation_pending|^DELETE FROM deliveries WHERE id IN", RegexOptions.IgnoreCase), Request),
        (new Regex(@"correlation_pending|correlation_notices|correlation_told|JOIN alert_indicators t ON|SELECT SubjectId|FROM alerts x JOIN agencies g|FROM subscriptions WHERE status IN \(.*\) AND agency_id IN", RegexOptions.IgnoreCase), Correlation),
        (new Regex(@"feed_changes|pg_notify", RegexOptions.IgnoreCase), Feed),
        (new Regex(@"audit_chain_head|UPDATE audit_records|FROM audit_records WHERE seq", RegexOptions.IgnoreCase), Audit),
        (new Regex(@"UPDATE api_keys", RegexOptions.IgnoreCase), Keys),
        (new Regex(@"due_pending|UPDATE deliveries|delivery_attempts|FROM deliveries", RegexOptions.IgnoreCase), Dispatcher),
        (new Regex(@"INTO (alerts|alert_versions|alert_countries|alert_audience|alert_indicators|alert_search|idempotency_keys|events|deliveries|audit_records)\b|FROM subscriptions s JOIN agencies|FROM agencies WHERE is_active|DELETE FROM deliveries", RegexOptions.IgnoreCase), Request),
    ];

    public static string Of(string query)
    {
        foreach (var (pattern, issuer) in Rules)
        {
            if (pattern.IsMatch(query))
            {
                return issuer;
            }
        }

        return Other;
    }
}
