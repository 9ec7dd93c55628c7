using System.Text.RegularExpressions;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

/// <summary>
/// The rule that makes rolling back the image safe (docs/operations.md, "Upgrading"; ADR 3): a migration only adds what the
/// previous release can write around. Its other half, the previous release running on a newer schema, is
/// Operations/RollbackTests (integration).
/// </summary>
public sealed partial class MigrationRuleTests
{
    /// <summary>
    /// Removals the previous release tolerates, each with why. A column or table may be removed only in a release after the
    /// one that stopped using it; add it here, naming that release, when you do.
    /// </summary>
    private static readonly HashSet<string> ToleratedRemovals =
    [
        // Foreign keys of deliveries (ADR 15): no release reads a constraint, and inserts only become less constrained.
        "ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey",
        "ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscription_id_fkey",
        "ALTER TABLE deliveries DROP CONSTRAINT deliveries_agency_id_fkey",
    ];

    public static TheoryData<DatabaseProvider> Providers => [DatabaseProvider.Sqlite, DatabaseProvider.Postgres];

    private static IEnumerable<(Migrator.Script Script, string Statement)> Statements(DatabaseProvider provider) =>
        from script in Migrator.Scripts(provider)
        from statement in CommentLine().Replace(script.Sql, string.Empty).Split(';')
        let text = Whitespace().Replace(statement, " ").Trim()
        where text.Length > 0
        select (script, text);

    [Theory]
    [MemberData(nameof(Providers))]
    public void Every_column_a_migration_adds_is_nullable_or_has_a_default(DatabaseProvider provider)
    {
        var offending = Statements(provider)
            .Where(s => AddColumn().IsMatch(s.Statement) && NotNull().IsMatch(s.Statement) && !Default().IsMatch(s.Statement))
            .Select(s => $"{s.Script.Version} {s.Script.Name}: {s.Statement}")
            .ToList();

        // The previous release inserts rows without the new column: NOT NULL without a default would refuse them after a rollback.
        Assert.True(offending.Count == 0, string.Join('\n', offending));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void No_migration_drops_or_renames_what_the_previous_release_may_still_use(DatabaseProvider provider)
    {
        var offending = Statements(provider)
            .Where(s => Removal().IsMatch(s.Statement) && !ToleratedRemovals.Contains(s.Statement))
            .Select(s => $"{s.Script.Version} {s.Script.Name}: {s.Statement}")
            .ToList();

        Assert.True(offending.Count == 0, string.Join('\n', offending));
    }

    [Fact]
    public void The_rule_sees_a_not_null_column_without_a_default_and_a_dropped_column()
    {
        const string NotNullWithoutDefault = "ALTER TABLE alerts ADD COLUMN origin TEXT NOT NULL";
        Assert.Matches(AddColumn(), NotNullWithoutDefault);
        Assert.Matches(NotNull(), NotNullWithoutDefault);
        Assert.DoesNotMatch(Default(), NotNullWithoutDefault);
        Assert.Matches(Removal(), "ALTER TABLE alerts DROP COLUMN summary");
        Assert.Matches(Removal(), "ALTER TABLE alerts RENAME COLUMN summary TO abstract");
        Assert.Matches(Removal(), "DROP TABLE alert_versions");
        Assert.DoesNotMatch(Removal(), "DROP INDEX IF EXISTS ix_alerts_updated");
    }

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\bADD\s+COLUMN\b", RegexOptions.IgnoreCase)]
    private static partial Regex AddColumn();

    [GeneratedRegex(@"\bNOT\s+NULL\b", RegexOptions.IgnoreCase)]
    private static partial Regex NotNull();

    [GeneratedRegex(@"\bDEFAULT\b", RegexOptions.IgnoreCase)]
    private static partial Regex Default();

    // Indexes come and go freely: no query names one. Constraints are listed above one by one.
    [GeneratedRegex(@"\b(DROP\s+(TABLE|COLUMN|CONSTRAINT|VIEW)|RENAME)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Removal();
}
