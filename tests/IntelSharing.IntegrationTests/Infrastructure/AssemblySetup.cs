using IntelSharing.IntegrationTests.Infrastructure;

[assembly: AssemblyFixture(typeof(PostgresClusterLifetime))]

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>Stops the throwaway PostgreSQL cluster and removes the SQLite template when the test assembly is done.</summary>
public sealed class PostgresClusterLifetime : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        MigratedTemplates.DeleteSqliteTemplate();
        await PostgresCluster.StopSharedAsync();
    }
}
