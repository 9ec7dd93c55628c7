namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>What an API key may do. Each scope is also the name of the authorization policy that requires it.</summary>
public static class Scopes
{
    public const string AlertsWrite = "alerts:write";
    public const string AlertsRead = "alerts:read";
    public const string SubscriptionsManage = "subscriptions:manage";
    public const string DeliveriesManage = "deliveries:manage";
    public const string AgenciesAdmin = "agencies:admin";
    public const string AuditRead = "audit:read";

    /// <summary>Scraping /metrics only: the key a Prometheus holds, which must not be able to manage agencies.</summary>
    public const string MetricsRead = "metrics:read";

    /// <summary>
    /// The published results only (GET /api/v1/statistics): counts without content, for a ministry's reporting tool.
    /// Separate from alerts:read so that such a key, if it leaks, reveals no alert.
    /// </summary>
    public const string StatisticsRead = "statistics:read";

    public static readonly IReadOnlyList<string> All =
        [AlertsWrite, AlertsRead, SubscriptionsManage, DeliveriesManage, AgenciesAdmin, AuditRead, MetricsRead, StatisticsRead];

    public static bool IsKnown(string scope) => All.Contains(scope, StringComparer.Ordinal);
}
