using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

/// <summary>
/// SQLite's write transactions take this process's turn at the file's single write lock asynchronously (ADR 39). A turn
/// that is not given back stops every later write of the process, so these tests pin each way a transaction ends.
/// </summary>
public sealed class SqliteWriteTurnTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("intelsharing-turns-").FullName;
    private Database _database = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = new Database(Options.Create(new DatabaseOptions
        {
            Provider = DatabaseProvider.Sqlite,
            ConnectionString = $"Data Source={Path.Combine(_folder, "turns.db")}",
        }));
        await using var connection = await _database.OpenAsync(Ct);
        await connection.ExecuteAsync("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
    }

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<long> CountAsync()
    {
        await using var connection = await _database.OpenAsync(Ct);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM notes");
    }

    /// <summary>A write on a connection of its own, which must get its turn within seconds.</summary>
    private async Task WriteAloneAsync(string text)
    {
        await using var connection = await _database.OpenAsync(Ct);
        await using var write = await Database.BeginWriteAsync(connection, Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        await connection.ExecuteAsync("INSERT INTO notes (text) VALUES (@text)", new { text }, write.Transaction);
        await write.CommitAsync(Ct);
    }

    [Fact]
    public async Task A_committed_write_lets_the_same_code_write_again_through_another_connection_before_closing_its_own()
    {
        await using var first = await _database.OpenAsync(Ct);
        await using (var write = await Database.BeginWriteAsync(first, Ct))
        {
            await first.ExecuteAsync("INSERT INTO notes (text) VALUES ('first')", transaction: write.Transaction);
            await write.CommitAsync(Ct);

            // Still inside the first transaction's scope, with its connection open: an audit record or a commit group
            // writes like this after a handler's commit.
            await WriteAloneAsync("second");
        }

        Assert.Equal(2, await CountAsync());
    }

    [Fact]
    public async Task A_write_that_fails_half_way_is_rolled_back_and_gives_its_turn_back()
    {
        await using (var connection = await _database.OpenAsync(Ct))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await using var write = await Database.BeginWriteAsync(connection, Ct);
                await connection.ExecuteAsync("INSERT INTO notes (text) VALUES ('lost')", transaction: write.Transaction);
                throw new InvalidOperationException("the handler failed before its commit");
            });
        }

        await WriteAloneAsync("kept");
        Assert.Equal(1, await CountAsync());
    }

    [Fact]
    public async Task Writers_of_one_process_wait_for_the_holder_and_then_all_commit()
    {
        await using var holder = await _database.OpenAsync(Ct);
        var held = await Database.BeginWriteAsync(holder, Ct);
        // Each gets its turn within WriteAloneAsync's 5 s once the holder has committed.
        var writers = Enumerable.Range(0, 20).Select(i => Task.Run(() => WriteAloneAsync($"writer {i}"), Ct)).ToList();

        await holder.ExecuteAsync("INSERT INTO notes (text) VALUES ('holder')", transaction: held.Transaction);
        await held.CommitAsync(Ct);
        await held.DisposeAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(21, await CountAsync());
    }
}
