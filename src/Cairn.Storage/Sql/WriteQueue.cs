using System.Data.Common;
using System.Threading.Channels;

namespace Cairn.Storage.Sql;

/// <summary>
/// The one writer of a database (group commit). Writes from all requests queue here; the writer
/// takes every write waiting, applies each inside its own savepoint and commits them in one
/// transaction. A write's task completes only after that commit, so an acknowledged write is
/// durable, and a write that fails is rolled back to its savepoint without touching the others.
/// </summary>
public sealed class WriteQueue : IAsyncDisposable
{
    private const int MaxWritesPerCommit = 256;

    private readonly SqlDatabase _database;
    private readonly Channel<PendingWrite> _queue = Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    public WriteQueue(SqlDatabase database)
    {
        _database = database;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Runs <paramref name="write"/> on the writer's connection inside the next group commit.</summary>
    public async Task<T> WriteAsync<T>(Func<WriteContext, Task<T>> write, CancellationToken ct = default)
    {
        var pending = new PendingWrite<T>(write);
        await _queue.Writer.WriteAsync(pending, ct).ConfigureAwait(false);
        return await pending.Completion.Task.ConfigureAwait(false);
    }

    public Task WriteAsync(Func<WriteContext, Task> write, CancellationToken ct = default) =>
        WriteAsync<bool>(async context =>
        {
            await write(context).ConfigureAwait(false);
            return true;
        }, ct);

    private async Task RunAsync()
    {
        DbConnection? connection = null;
        var batch = new List<PendingWrite>(MaxWritesPerCommit);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < MaxWritesPerCommit && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    connection ??= await _database.OpenAsync(_stop.Token).ConfigureAwait(false);
                    await CommitBatchAsync(connection, batch).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The connection may be broken; start over with a fresh one for the next batch.
                    foreach (var write in batch)
                    {
                        write.Fail(ex);
                    }

                    if (connection is not null)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false);
                        connection = null;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            while (_queue.Reader.TryRead(out var left))
            {
                left.Fail(new ObjectDisposedException(nameof(WriteQueue)));
            }

            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task CommitBatchAsync(DbConnection connection, List<PendingWrite> batch)
    {
        await using var tx = await connection.BeginTransactionAsync().ConfigureAwait(false);
        var context = new WriteContext(connection, tx, _database.Dialect);
        if (batch.Count == 1)
        {
            // Alone in its transaction, a write needs no savepoint: a failure rolls back the whole.
            var single = batch[0];
            try
            {
                await single.ApplyAsync(context).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await tx.RollbackAsync().ConfigureAwait(false);
                single.Fail(ex);
                return;
            }

            await tx.CommitAsync().ConfigureAwait(false);
            single.Succeed();
            return;
        }

        var succeeded = new List<PendingWrite>(batch.Count);
        foreach (var write in batch)
        {
            await context.ExecAsync("SAVEPOINT w").ConfigureAwait(false);
            try
            {
                await write.ApplyAsync(context).ConfigureAwait(false);
                await context.ExecAsync("RELEASE SAVEPOINT w").ConfigureAwait(false);
                succeeded.Add(write);
            }
            catch (Exception ex)
            {
                await context.ExecAsync("ROLLBACK TO SAVEPOINT w").ConfigureAwait(false);
                await context.ExecAsync("RELEASE SAVEPOINT w").ConfigureAwait(false);
                write.Fail(ex);
            }
        }

        await tx.CommitAsync().ConfigureAwait(false);
        foreach (var write in succeeded)
        {
            write.Succeed();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private abstract class PendingWrite
    {
        public abstract Task ApplyAsync(WriteContext context);

        public abstract void Succeed();

        public abstract void Fail(Exception ex);
    }

    private sealed class PendingWrite<T>(Func<WriteContext, Task<T>> write) : PendingWrite
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task ApplyAsync(WriteContext context) => _result = await write(context).ConfigureAwait(false);

        public override void Succeed() => Completion.TrySetResult(_result!);

        public override void Fail(Exception ex) => Completion.TrySetException(ex);
    }
}

/// <summary>The writer's connection and open transaction, handed to each queued write.</summary>
public sealed class WriteContext(DbConnection connection, DbTransaction transaction, SqlDialect dialect)
{
    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; } = transaction;

    public SqlDialect Dialect { get; } = dialect;

    public DbCommand Command(string sql, params object?[] args)
    {
        var cmd = Connection.CreateCommand();
        cmd.Transaction = Transaction;
        cmd.CommandText = sql;
        SqlCommands.AddPositional(cmd, args);
        return cmd;
    }

    public async Task<int> ExecAsync(string sql, params object?[] args)
    {
        await using var cmd = Command(sql, args);
        return await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
