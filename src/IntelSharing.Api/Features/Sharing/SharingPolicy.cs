using IntelSharing.Api.Domain;

namespace IntelSharing.Api.Features.Sharing;

/// <summary>What the policy needs to know about one alert version and one agency.</summary>
/// <param name="OriginatorId">The agency that published the alert.</param>
/// <param name="Tlp">The version's marking.</param>
/// <param name="HasAudience">Whether the version names an audience.</param>
/// <param name="AgencyInAudience">Whether the agency asking is in that audience (as resolved when the version was published).</param>
/// <param name="AgencyActive">Whether the agency asking is active now.</param>
public readonly record struct AlertAccess(Guid OriginatorId, Tlp Tlp, bool HasAudience, bool AgencyInAudience, bool AgencyActive);

/// <summary>
/// The one decision "may agency X see or receive this alert version?" (PRODUCT.md, "Who may see what").
/// Every path asks it: read one, list, outbox fan-out, feedback, exports. For set-based paths it also
/// gives the same rule as a SQL predicate; tests hold the two forms equal over every combination.
/// A deactivated agency sees and receives nothing, not even its own alerts, until it is activated again;
/// its keys are refused at authentication as well, but fan-out to subscriptions relies on this rule.
/// </summary>
public static class SharingPolicy
{
    public static bool MaySee(Guid agencyId, AlertAccess alert)
    {
        if (!alert.AgencyActive)
        {
            return false;
        }

        if (agencyId == alert.OriginatorId)
        {
            return true;
        }

        return alert.Tlp switch
        {
            Tlp.Clear or Tlp.Green => true,
            Tlp.Amber => !alert.HasAudience || alert.AgencyInAudience,
            Tlp.AmberStrict or Tlp.Red => alert.HasAudience && alert.AgencyInAudience,
            _ => false,
        };
    }

    /// <summary>
    /// The same rule as <see cref="MaySee"/>, for a query over <c>alerts</c> aliased <paramref name="alert"/>,
    /// with the agency id in the parameter <paramref name="agencyParameter"/> (an expression such as <c>@agencyId</c>
    /// or a column such as <c>s.agency_id</c>).
    /// </summary>
    public static string VisibleSql(string alert, string agencyParameter) =>
        $"""
        (EXISTS (SELECT 1 FROM agencies viewer WHERE viewer.id = {agencyParameter} AND viewer.is_active)
         AND ({alert}.originator_id = {agencyParameter}
          OR {VisibleToEveryoneSql(alert)}
          OR ({alert}.tlp IN {AudienceMarkingsSql}
              AND EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = {alert}.id AND aa.agency_id = {agencyParameter}))))
        """;

    /// <summary>
    /// The alerts every active agency may see, whoever it is (<see cref="VisibleSql"/>'s case that names no agency): the
    /// published-results roll-up counts these once for everyone, and every other alert under its originator and under
    /// each agency of its audience (ADR 40).
    /// </summary>
    public static string VisibleToEveryoneSql(string alert) =>
        $"({alert}.tlp IN ('clear', 'green') OR ({alert}.tlp = 'amber' AND NOT {alert}.has_audience))";

    /// <summary>The markings under which an agency named in the audience may see an alert, as a SQL list.</summary>
    public const string AudienceMarkingsSql = "('amber', 'amber+strict', 'red')";
}
