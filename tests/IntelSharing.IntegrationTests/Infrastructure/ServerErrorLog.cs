using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IntelSharing.IntegrationTests.Infrastructure;

/// <summary>Error-level log entries of the application, drained by tests that must show the exception behind a 500.</summary>
public sealed class ServerErrorLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public IReadOnlyList<string> Drain()
    {
        var drained = new List<string>();
        while (_entries.TryDequeue(out var entry))
        {
            drained.Add(entry);
        }

        return drained;
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ServerErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log._entries.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}

public static class ServerErrorLogExtensions
{
    /// <summary>Keeps what the server logs as errors, so a failure report shows the exception behind a 500.</summary>
    public static IServiceCollection CaptureServerErrors(this IServiceCollection services, ServerErrorLog log) =>
        services.AddLogging(logging => logging.AddProvider(log));
}
