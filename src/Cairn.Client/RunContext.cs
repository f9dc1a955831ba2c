namespace Cairn.Client;

/// <summary>
/// The active run of each async flow. Starting a run installs a holder synchronously in the caller's
/// flow (async methods cannot change the caller's AsyncLocal values), then fills it when the run
/// exists; ending the run hands the holder back to the parent. Exceptions thrown in a flow are
/// noted on its active run so a scope that an exception escapes can end FAILED.
/// </summary>
internal static class RunContext
{
    internal sealed class Holder(ActiveRun? run)
    {
        public ActiveRun? Run = run;
    }

    private static readonly AsyncLocal<Holder?> Current = new();

    static RunContext()
    {
        AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
        {
            if (Active is { } run)
            {
                run.NoteException(e.Exception);
            }
        };
    }

    /// <summary>The innermost run of this flow that has not ended (an ended run hands over to its parent).</summary>
    public static ActiveRun? Active
    {
        get
        {
            var run = Current.Value?.Run;
            while (run is { IsEnded: true })
            {
                run = run.Parent;
            }

            return run;
        }
    }

    /// <summary>Installs a new holder for this flow, initially pointing at the current run (the would-be parent).</summary>
    public static Holder Push()
    {
        var holder = new Holder(Active);
        Current.Value = holder;
        return holder;
    }
}
