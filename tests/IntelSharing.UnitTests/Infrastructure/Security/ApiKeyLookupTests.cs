using Dapper;
using IntelSharing.Api.Features.Agencies;
using IntelSharing.Api.Infrastructure.Persistence;
using IntelSharing.Api.Infrastructure.Security;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace IntelSharing.UnitTests.Infrastructure.Security;

/// <summary>
/// <see cref="ApiKeyLookup"/>'s bounds and its distrusted state, on an in-memory SQLite database (kept alive by one open
/// connection) so that what the database holds and what the cache answers can be told apart.
/// </summary>
public sealed class ApiKeyLookupTests : IAsyncLifetime
{
    private readonly string _connectionString = $"Data Source=file:keylookup-{Guid.NewGuid():N}?mode=memory&cache=shared";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
    private SqliteConnection _keepAlive = null!;
    private Database _database = null!;
    private Guid _agencyId;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        DapperTypeHandlers.Register();
        _keepAlive = new SqliteConnection(_connectionString);
        await _keepAlive.OpenAsync(Ct);
        foreach (var script in Migrator.Scripts(DatabaseProvider.Sqlite))
        {
            await _keepAlive.ExecuteAsync(SqliteDialect.Instance.TranslateMigration(script.Sql));
        }

        _database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Sqlite, ConnectionString = _connectionString }));
        _agencyId = Guid.CreateVersion7();
        await _keepAlive.ExecuteAsync(
            "INSERT INTO agencies (id, name, country, kind, is_active, created_at, updated_at) VALUES (@_agencyId, 'Border Police Directorate', 'RS', 'border_guard', 1, @now, @now)",
            new { _agencyId, now = _clock.GetUtcNow() });
    }

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        await _keepAlive.DisposeAsync();
    }

    [Fact]
    public async Task Beyond_its_capacity_the_cache_keeps_no_more_rows_and_still_finds_every_key()
    {
        var lookup = Lookup(capacity: 2);
        var prefixes = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            prefixes.Add(await IssueAsync());
        }

        foreach (var prefix in prefixes.Concat(prefixes))
        {
            Assert.NotNull(await lookup.FindAsync(prefix, Ct));
        }

        Assert.Equal(2, lookup.Count);
    }

    [Fact]
    public async Task A_full_cache_makes_room_once_its_rows_are_older_than_the_maximum_age()
    {
        var lookup = Lookup(capacity: 1);
        var first = await IssueAsync();
        var second = await IssueAsync();
        await lookup.FindAsync(first, Ct);

        _clock.Advance(TimeSpan.FromSeconds(60));
        await lookup.FindAsync(second, Ct);
        await RevokeAsync(second);

        // Answered from the cache (the revocation went behind its back): the aged-out first row made room for it.
        Assert.Null((await lookup.FindAsync(second, Ct))!.RevokedAt);
        Assert.Equal(1, lookup.Count);
    }

    [Fact]
    public async Task A_distrusted_cache_reads_every_key_from_the_database_until_trusted_again()
    {
        var lookup = Lookup(capacity: 100);
        var prefix = await IssueAsync();
        Assert.Null((await lookup.FindAsync(prefix, Ct))!.RevokedAt);

        lookup.Distrust();
        Assert.Null((await lookup.FindAsync(prefix, Ct))!.RevokedAt);
        await RevokeAsync(prefix);
        var whileDistrusted = await lookup.FindAsync(prefix, Ct);
        lookup.Trust();

        Assert.NotNull(whileDistrusted!.RevokedAt);
        Assert.Equal(0, lookup.Count);
        Assert.NotNull((await lookup.FindAsync(prefix, Ct))!.RevokedAt);
    }

    private ApiKeyLookup Lookup(int capacity) =>
        new(_database, _clock, Options.Create(new ApiKeyCacheOptions { CacheCapacity = capacity, CacheMaxAgeSeconds = 60 }));

    private async Task<string> IssueAsync() =>
        (await IssueApiKey.IssueAsync(_keepAlive, _clock, _agencyId, "test", ["alerts:read"], null, Ct))!.Prefix;

    private async Task RevokeAsync(string prefix) =>
        await _keepAlive.ExecuteAsync("UPDATE api_keys SET revoked_at = @at WHERE prefix = @prefix", new { at = _clock.GetUtcNow(), prefix });
}
