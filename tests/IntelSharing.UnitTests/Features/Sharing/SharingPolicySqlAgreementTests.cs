using Dapper;
using IntelSharing.Api.Domain;
using IntelSharing.Api.Features.Sharing;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Data.Sqlite;

namespace IntelSharing.UnitTests.Features.Sharing;

/// <summary>
/// <see cref="SharingPolicy.MaySee"/> decides one alert at a time; <see cref="SharingPolicy.VisibleSql"/> decides
/// sets in the database. They must never disagree: every combination of marking, audience, originator and
/// agency standing is stored in a real (in-memory) SQLite database built by the migrations, and both forms are asked.
/// </summary>
public sealed class SharingPolicySqlAgreementTests : IDisposable
{
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    private sealed record Agency(string Name, Guid Id, bool Active);

    private sealed record Alert(Guid Id, Guid OriginatorId, Tlp Tlp, IReadOnlyList<Guid> Audience);

    private static readonly Agency Originator = new("originator", Guid.NewGuid(), true);
    private static readonly Agency DeactivatedOriginator = new("deactivated originator", Guid.NewGuid(), false);
    private static readonly Agency Named = new("named", Guid.NewGuid(), true);
    private static readonly Agency NamedButDeactivated = new("named but deactivated", Guid.NewGuid(), false);
    private static readonly Agency Outsider = new("outsider", Guid.NewGuid(), true);
    private static readonly Agency[] Agencies = [Originator, DeactivatedOriginator, Named, NamedButDeactivated, Outsider];

    public SharingPolicySqlAgreementTests()
    {
        DapperTypeHandlers.Register();
        _connection.Open();
        foreach (var script in Migrator.Scripts(DatabaseProvider.Sqlite))
        {
            _connection.Execute(SqliteDialect.Instance.TranslateMigration(script.Sql));
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var agency in Agencies)
        {
            _connection.Execute(
                "INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at) VALUES (@Id, @Name, 'RS', 'police', @Active, @now, @now)",
                new { agency.Id, agency.Name, agency.Active, now });
        }
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Every marking × {no audience, an audience naming two agencies, an audience naming only the outsider} × two originators (one deactivated).</summary>
    private List<Alert> StoreEveryCombination()
    {
        var alerts = new List<Alert>();
        IReadOnlyList<Guid>[] audiences = [[], [Named.Id, NamedButDeactivated.Id], [Outsider.Id]];
        foreach (var tlp in Enum.GetValues<Tlp>())
        {
            foreach (var audience in audiences)
            {
                foreach (var originator in new[] { Originator, DeactivatedOriginator })
                {
                    var alert = new Alert(Guid.NewGuid(), originator.Id, tlp, audience);
                    _connection.Execute(
                        """
                        INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience, version, status, created_at, updated_at, document)
                        VALUES (@Id, @OriginatorId, 'cyber_incident', 'high', 3, @tlp, 'H0', @hasAudience, 1, 'active', @now, @now, '{}')
                        """,
                        new { alert.Id, alert.OriginatorId, tlp = WireNames.Of(tlp), hasAudience = audience.Count > 0, now = DateTimeOffset.UtcNow });
                    foreach (var member in audience)
                    {
                        _connection.Execute("INSERT INTO alert_audience (alert_id, agency_id) VALUES (@alertId, @member)", new { alertId = alert.Id, member });
                    }

                    alerts.Add(alert);
                }
            }
        }

        return alerts;
    }

    private bool SqlSays(Guid agencyId, Guid alertId) =>
        _connection.ExecuteScalar<long>(
            $"SELECT COUNT(*) FROM alerts a WHERE a.id = @alertId AND {SharingPolicy.VisibleSql("a", "@agencyId")}",
            new { alertId, agencyId }) == 1;

    private static bool CodeSays(Agency agency, Alert alert) =>
        SharingPolicy.MaySee(agency.Id, new AlertAccess(alert.OriginatorId, alert.Tlp, alert.Audience.Count > 0, alert.Audience.Contains(agency.Id), agency.Active));

    [Fact]
    public void MaySee_and_VisibleSql_agree_on_every_marking_audience_originator_and_agency_standing()
    {
        var alerts = StoreEveryCombination();

        var disagreements = (
            from alert in alerts
            from agency in Agencies
            let code = CodeSays(agency, alert)
            let sql = SqlSays(agency.Id, alert.Id)
            where code != sql
            select $"{agency.Name} / {WireNames.Of(alert.Tlp)} / audience of {alert.Audience.Count}: MaySee={code}, VisibleSql={sql}").ToList();

        Assert.Equal(5 * 3 * 2 * Agencies.Length, alerts.Count * Agencies.Length);
        Assert.Empty(disagreements);
    }

    [Theory]
    [InlineData(Tlp.Clear, false, false, true)]
    [InlineData(Tlp.Green, false, false, true)]
    [InlineData(Tlp.Amber, false, false, true)]
    [InlineData(Tlp.Amber, true, false, false)]
    [InlineData(Tlp.Amber, true, true, true)]
    [InlineData(Tlp.AmberStrict, true, true, true)]
    [InlineData(Tlp.AmberStrict, true, false, false)]
    [InlineData(Tlp.AmberStrict, false, false, false)]
    [InlineData(Tlp.Red, true, true, true)]
    [InlineData(Tlp.Red, true, false, false)]
    [InlineData(Tlp.Red, false, false, false)]
    public void An_active_partner_that_is_not_the_originator_sees_what_the_brief_says(Tlp tlp, bool hasAudience, bool inAudience, bool sees) =>
        Assert.Equal(sees, SharingPolicy.MaySee(Named.Id, new AlertAccess(Originator.Id, tlp, hasAudience, inAudience, AgencyActive: true)));

    [Fact]
    public void The_originator_always_sees_its_own_alert_and_a_deactivated_agency_sees_nothing_not_even_its_own()
    {
        foreach (var tlp in Enum.GetValues<Tlp>())
        {
            Assert.True(SharingPolicy.MaySee(Originator.Id, new AlertAccess(Originator.Id, tlp, false, false, AgencyActive: true)));
            Assert.False(SharingPolicy.MaySee(Originator.Id, new AlertAccess(Originator.Id, tlp, false, false, AgencyActive: false)));
            Assert.False(SharingPolicy.MaySee(Named.Id, new AlertAccess(Originator.Id, tlp, true, true, AgencyActive: false)));
        }
    }
}
