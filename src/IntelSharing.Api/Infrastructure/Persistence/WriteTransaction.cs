using System.Data.Common;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// A write transaction as <see cref="Database.BeginWriteAsync"/> starts it: the driver's <see cref="Transaction"/>
/// (for Dapper and every helper that takes a <see cref="DbTransaction"/>) plus, on SQLite, this
/// process's turn at the database's single write lock (<see cref="SqliteWriteGate"/>), given back the moment the
/// transaction commits or ends, not when the connection closes — code that commits and then writes again through
/// another connection (an audit record, a commit group) would otherwise wait on itself.
/// </summary>
public sealed class WriteTransaction : IAsyncDisposable, IDisposable
{
    private readonly DbTransaction _transaction;
    private IDisposable? _turn;

    public WriteTransaction(DbTransaction transaction, IDisposable? turn = null)
    {
        _transaction = transaction;
        _turn = turn;
    }

    /// <summary>The driver's transaction. Commit through <see cref="CommitAsync"/>, which also gives the turn back.</summary>
    public DbTransaction Transaction => _transaction;

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        await _transaction.CommitAsync(cancellationToken);
        // Only a completed commit gives the turn back early; a failed one keeps it until the rollback in DisposeAsync.
        GiveBackTurn();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _transaction.DisposeAsync();
        }
        finally
        {
            GiveBackTurn();
        }
    }

    /// <summary>For the few synchronous callers (ASP.NET Core's key ring: <see cref="DatabaseKeyRepository"/>).</summary>
    public void Dispose()
    {
        try
        {
            _transaction.Dispose();
        }
        finally
        {
            GiveBackTurn();
        }
    }

    private void GiveBackTurn() => Interlocked.Exchange(ref _turn, null)?.Dispose();
}
