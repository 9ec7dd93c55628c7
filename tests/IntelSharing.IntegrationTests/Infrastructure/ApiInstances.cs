using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>
/// Real API processes (<see cref="ApiProcess"/>) on one new PostgreSQL database, each ready to serve, and a
/// <see cref="Api.Infrastructure.Persistence.Database"/> on the same database for setup and checks. Skips the test
/// without a PostgreSQL cluster (fails instead under INTELSHARING_REQUIRE_POSTGRES).
/// </summary>
public sealed class ApiInstances : IAsyncDisposable
{
    private ApiInstances(Database database, IReadOnlyList<ApiProcess> processes)
    {
        Database = database;
        Processes = processes;
    }

    public Database Database { get; }

    public IReadOnlyList<ApiProcess> Processes { get; }

    public ApiProcess First => Processes[0];

    public ApiProcess Second => Processes[1];

    public static async Task<ApiInstances> StartAsync(string databaseName, int count = 2, IReadOnlyDictionary<string, string>? settings = null)
    {
        var cluster = await PostgresCluster.Shared;
        if (cluster.AdminConnectionString is null)
        {
            Assert.True(!PostgresCluster.Required, cluster.UnavailableReason);
            Assert.Skip(cluster.UnavailableReason!);
        }

        var connectionString = await cluster.CreateDatabaseAsync(databaseName);
        // One after the other: the first applies the migrations, the others find them applied.
        var processes = new List<ApiProcess>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                processes.Add(ApiProcess.Start(connectionString, settings));
                await processes[^1].WaitUntilReadyAsync();
            }
        }
        catch
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            throw;
        }

        return new ApiInstances(
            new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString })), processes);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            await process.DisposeAsync();
        }

        await Database.DisposeAsync();
    }
}
