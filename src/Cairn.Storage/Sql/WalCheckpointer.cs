using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sql;

/// <summary>
/// Moves SQLite's WAL checkpoints off the writer. By default the committing connection copies the
/// WAL back into the database (with fsyncs) whenever it passes 1,000 pages, stalling the one writer
/// every few hundred batches (75 ms worst-case batches measured). Connections are opened with
/// automatic checkpoints off; this loop runs a PASSIVE checkpoint (never blocks the writer) every
/// quarter second, and a TRUNCATE checkpoint when the WAL has grown past a bound anyway, which
/// keeps the file from growing without limit under sustained load.
/// </summary>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    private const int TruncateAbovePages = 16_384;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly SqlDatabase _db;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public WalCheckpointer(SqlDatabase db)
    {
        _db = db;
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        try
        {
            await using var connection = await _db.OpenAsync(_stop.Token).ConfigureAwait(false);
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(Interval, _stop.Token).ConfigureAwait(false);
                var walPages = await CheckpointAsync(connection, "PASSIVE").ConfigureAwait(false);
                if (walPages > TruncateAbovePages)
                {
                    await CheckpointAsync(connection, "TRUNCATE").ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SqliteException)
        {
            // A failed checkpoint loses nothing (the WAL keeps every commit); the final one at dispose retries.
        }
    }

    /// <summary>Runs a checkpoint and returns the number of pages in the WAL.</summary>
    private static async Task<long> CheckpointAsync(System.Data.Common.DbConnection connection, string mode)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"PRAGMA wal_checkpoint({mode})";
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        return await reader.ReadAsync().ConfigureAwait(false) ? reader.GetInt64(1) : 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            await using var connection = await _db.OpenAsync().ConfigureAwait(false);
            await CheckpointAsync(connection, "TRUNCATE").ConfigureAwait(false);
        }
        catch (SqliteException)
        {
        }
    }
}
