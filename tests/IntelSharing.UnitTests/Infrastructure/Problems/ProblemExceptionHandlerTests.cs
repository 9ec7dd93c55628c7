using System.Net.Sockets;
using IntelSharing.Api.Infrastructure.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IntelSharing.UnitTests.Infrastructure.Problems;

/// <summary>What a database that is down, restarting or refusing connections looks like to the client: 503 with Retry-After, never 500.</summary>
public sealed class ProblemExceptionHandlerTests
{
    public static TheoryData<string> Outages => new(OutageExceptions.Keys);

    public static TheoryData<string> Bugs => new(BugExceptions.Keys);

    private static readonly Dictionary<string, Exception> OutageExceptions = new()
    {
        ["connection refused"] = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)),
        ["connection reset mid-query"] = new NpgsqlException("Exception while reading from stream", new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset))),
        ["server closed the stream"] = new NpgsqlException("Exception while reading from stream", new EndOfStreamException("Attempted to read past the end of the stream.")),
        ["read timeout"] = new NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")),
        ["57P01 admin shutdown (pg_ctl stop)"] = Postgres("57P01", "terminating connection due to administrator command"),
        ["57P01 immediate shutdown"] = Postgres("57P01", "terminating connection due to immediate shutdown command"),
        ["57P02 crash shutdown"] = Postgres("57P02", "terminating connection because of crash of another server process"),
        ["57P03 starting up"] = Postgres("57P03", "the database system is starting up"),
        ["57P03 shutting down"] = Postgres("57P03", "the database system is shutting down"),
        ["08006 connection failure"] = Postgres("08006", "connection failure"),
        ["08001 unable to connect"] = Postgres("08001", "could not establish connection"),
        ["08003 connection does not exist"] = Postgres("08003", "connection does not exist"),
        ["53300 too many connections"] = Postgres("53300", "sorry, too many clients already"),
        ["SQLite busy"] = new SqliteException("database is locked", 5),
    };

    private static readonly Dictionary<string, Exception> BugExceptions = new()
    {
        ["23505 unique violation"] = Postgres("23505", "duplicate key value violates unique constraint"),
        ["22021 invalid byte sequence"] = Postgres("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"),
        ["42P01 undefined table"] = Postgres("42P01", "relation \"alerts\" does not exist"),
        ["a plain bug"] = new InvalidOperationException("Sequence contains no elements"),
        ["a regex timeout"] = new System.Text.RegularExpressions.RegexMatchTimeoutException("(a+)+$", "(a+)+$", TimeSpan.FromSeconds(1)),
        ["another component's timeout"] = new InvalidOperationException("The operation failed", new TimeoutException("The operation has timed out.")),
        ["a socket error outside the database"] = new HttpRequestException("Connection refused (partner.example:443)", new SocketException((int)SocketError.ConnectionRefused)),
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public async Task A_database_that_is_down_or_restarting_is_a_503_with_retry_after(string outage)
    {
        var (context, written) = await HandleAsync(OutageExceptions[outage]);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(ProblemTypes.ServiceUnavailable, written!.ProblemDetails.Type);
    }

    [Theory]
    [MemberData(nameof(Bugs))]
    public async Task Other_database_errors_stay_500_because_they_are_bugs(string bug)
    {
        var (context, written) = await HandleAsync(BugExceptions[bug]);

        Assert.Equal(StatusCodes.Status500InternalServerError, context.Response.StatusCode);
        Assert.False(context.Response.Headers.ContainsKey("Retry-After"));
        Assert.Equal(ProblemTypes.Internal, written!.ProblemDetails.Type);
    }

    private static async Task<(HttpContext Context, ProblemDetailsContext? Written)> HandleAsync(Exception exception)
    {
        var problems = new RecordingProblemDetailsService();
        var context = new DefaultHttpContext();
        var handler = new ProblemExceptionHandler(problems, NullLogger<ProblemExceptionHandler>.Instance);

        Assert.True(await handler.TryHandleAsync(context, exception, CancellationToken.None));
        return (context, problems.Written);
    }

    private static PostgresException Postgres(string sqlState, string message) => new(message, "FATAL", "FATAL", sqlState);

    private sealed class RecordingProblemDetailsService : IProblemDetailsService
    {
        public ProblemDetailsContext? Written { get; private set; }

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            Written = context;
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryWriteAsync(ProblemDetailsContext context)
        {
            Written = context;
            return ValueTask.FromResult(true);
        }
    }
}
