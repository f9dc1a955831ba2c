namespace Cairn.Lab.Pipelines;

/// <summary>
/// Reports on the caller's thread, one report at a time and in order (<see cref="Progress{T}"/>
/// posts each report to the thread pool, which reorders progress lines).
/// </summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _lock = new();

    public void Report(T value)
    {
        lock (_lock)
        {
            report(value);
        }
    }
}
