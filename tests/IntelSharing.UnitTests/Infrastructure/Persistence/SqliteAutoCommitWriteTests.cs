using Dapper;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

/// <summary>
/// Writes that run without a transaction of their caller's (an API key issued by the bootstrap path or a fixture, the
/// server secrets created at start) must take this process's write turn too (ADR 39, ADR 44). A write that skips it
/// meets a held write lock inside SQLite's busy handler, which blocks its thread — Microsoft.Data.Sqlite's async
/// methods run synchronously — for up to the 10 s busy timeout. So each test holds a write transaction and calls the
/// write on the same thread: one that queues on the turn returns an unfinished task at once; one in the busy handler
/// returns only when the busy timeout has failed it.
/// </summary>
public sealed class SqliteAutoCommitWriteTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("intelsharing-autocommit-").FullName;
    private Database _database = null!;
    private Guid _agencyId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        DapperTypeHandlers.Register();
        _database = new Database(Options.Create(new DatabaseOptions
        {
            Provider = DatabaseProvider.Sqlite,
            ConnectionString = $"Data Source={Path.Combine(_folder, "autocommit.db")}",
        }));
        await using var connection = await _database.OpenAsync(Ct);
        foreach (var script in Migrator.Scripts(DatabaseProvider.Sqlite))
        {
            await connection.ExecuteAsync(SqliteDialect.Instance.TranslateMigration(script.Sql));
        }

        _agencyId = Guid.CreateVersion7();
        await connection.ExecuteAsync(
            "INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at) VALUES (@_agencyId, 'Ministry of Interior', 'RS', 'police', 1, @now, @now)",
            new { _agencyId, now = DateTimeOffset.UtcNow });
    }

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task An_api_key_issued_without_a_transaction_waits_for_a_held_write_and_then_is_stored()
    {
        await using var holder = await _database.OpenAsync(Ct);
        var held = await Database.BeginWriteAsync(holder, Ct);
        await using var connection = await _database.OpenAsync(Ct);

        var issuing = IssueApiKey.IssueAsync(connection, TimeProvider.System, _agencyId, "gateway", ["alerts:read"], null, Ct);

        Assert.False(issuing.IsCompleted, "the write ran into the held lock in SQLite's busy handler instead of waiting for its turn");
        await held.CommitAsync(Ct);
        await held.DisposeAsync();
        var issued = await issuing.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.NotNull(issued);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys WHERE prefix = @Prefix", new { issued.Prefix }));
    }

    [Fact]
    public async Task A_server_secret_created_beside_a_held_write_waits_for_it_and_then_is_stored()
    {
        await using var holder = await _database.OpenAsync(Ct);
        var held = await Database.BeginWriteAsync(holder, Ct);

        var creating = ServerSecrets.GetOrCreateAsync(_database, TimeProvider.System, "alert-cursor", Ct);

        Assert.False(creating.IsCompleted, "the write ran into the held lock in SQLite's busy handler instead of waiting for its turn");
        await held.CommitAsync(Ct);
        await held.DisposeAsync();
        var secret = await creating.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(secret, await ServerSecrets.GetOrCreateAsync(_database, TimeProvider.System, "alert-cursor", Ct));
    }
}
