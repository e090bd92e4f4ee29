using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Lethe.Server.Tests.Hosting;

/// One log entry as the server wrote it: everything a log sink could persist.
public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<string> Values, string? Exception, IReadOnlyList<string> Scopes)
{
    /// The whole entry as text: the formatted message, every structured value, the exception and the scopes.
    public string AllText => string.Join("\n", new[] { Category, EventId.Name ?? "", Message, Exception ?? "" }.Concat(Values).Concat(Scopes));
}

/// Every log entry of one server, at every level and category.
public sealed class LogSink
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    internal void Add(CapturedLog entry) => _entries.Enqueue(entry);
}

[ProviderAlias("Capture")]
internal sealed class CaptureLoggerProvider(LogSink sink) : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new CaptureLogger(categoryName, sink, () => _scopes);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CaptureLogger(string category, LogSink sink, Func<IExternalScopeProvider> scopes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => scopes().Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new List<string>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                values.AddRange(pairs.Select(p => $"{p.Key}={Render(p.Value)}"));
            }
            else if (state is not null)
            {
                values.Add(Render(state));
            }
            var scopeTexts = new List<string>();
            scopes().ForEachScope((scope, list) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    list.AddRange(scopePairs.Select(p => $"{p.Key}={Render(p.Value)}"));
                }
                list.Add(Render(scope));
            }, scopeTexts);
            sink.Add(new CapturedLog(category, logLevel, eventId, formatter(state, exception), values, exception?.ToString(), scopeTexts));
        }

        private static string Render(object? value) => value switch
        {
            null => "",
            string s => s,
            System.Collections.IEnumerable items => string.Join(",", items.Cast<object?>().Select(i => i?.ToString())),
            _ => value.ToString() ?? "",
        };
    }
}
