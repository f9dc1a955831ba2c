namespace Cairn.Tuning.Storage;

/// <summary>Keeps studies in process memory; the default storage and the fastest for single-process studies.</summary>
public sealed class InMemoryStudyStorage : IStudyStorage
{
    private readonly Lock _lock = new();
    private readonly List<StudyInfo> _studies = [];
    private readonly Dictionary<long, List<MutableTrial>> _trialsByStudy = [];
    private readonly Dictionary<long, MutableTrial> _trials = [];
    private readonly TimeProvider _time;
    private long _nextTrialId;

    public InMemoryStudyStorage(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;

    public Task<StudyInfo> CreateStudyAsync(string name, StudyDirection direction, bool loadIfExists, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var existing = _studies.FirstOrDefault(s => s.Name == name);
            if (existing is not null)
            {
                if (!loadIfExists) throw new InvalidOperationException($"A study named '{name}' already exists.");
                return Task.FromResult(existing);
            }
            var info = new StudyInfo(_studies.Count + 1, name, direction, _time.GetUtcNow());
            _studies.Add(info);
            _trialsByStudy[info.StudyId] = [];
            return Task.FromResult(info);
        }
    }

    public Task<StudyInfo?> GetStudyAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_studies.FirstOrDefault(s => s.Name == name));
    }

    public Task<IReadOnlyList<StudyInfo>> ListStudiesAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<StudyInfo>>(_studies.ToArray());
    }

    public Task<FrozenTrial> EnqueueTrialAsync(long studyId, IReadOnlyDictionary<string, string> systemAttrs, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var t = NewTrial(studyId, TrialState.Waiting);
            foreach (var (k, v) in systemAttrs) t.SystemAttrs[k] = v;
            return Task.FromResult(t.Freeze());
        }
    }

    public Task<FrozenTrial?> ClaimTrialAsync(long studyId, int? maxTrials, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var list = TrialsOf(studyId);
            var waiting = list.FirstOrDefault(t => t.State == TrialState.Waiting);
            if (waiting is not null)
            {
                waiting.State = TrialState.Running;
                waiting.StartedAt = waiting.Heartbeat = _time.GetUtcNow();
                return Task.FromResult<FrozenTrial?>(waiting.Freeze());
            }
            if (maxTrials is { } max && list.Count(t => t.State != TrialState.Failed) >= max)
                return Task.FromResult<FrozenTrial?>(null);
            var trial = NewTrial(studyId, TrialState.Running);
            trial.StartedAt = trial.Heartbeat = _time.GetUtcNow();
            return Task.FromResult<FrozenTrial?>(trial.Freeze());
        }
    }

    public Task WriteTrialProgressAsync(long trialId, TrialProgress progress, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var t = _trials[trialId];
            t.Apply(progress);
            t.Heartbeat = _time.GetUtcNow();
        }
        return Task.CompletedTask;
    }

    public Task<bool> FinishTrialAsync(long trialId, TrialState state, double? value, TrialProgress progress, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var t = _trials[trialId];
            if (t.State != TrialState.Running) return Task.FromResult(false);
            t.Apply(progress);
            t.State = state;
            t.Value = value;
            t.CompletedAt = _time.GetUtcNow();
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<FrozenTrial>> FailStaleTrialsAsync(long studyId, TimeSpan timeout, IReadOnlyCollection<long>? aliveTrialIds = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var failed = new List<FrozenTrial>();
            foreach (var t in TrialsOf(studyId))
            {
                if (t.State != TrialState.Running || t.Heartbeat is not { } hb || now - hb <= timeout) continue;
                if (aliveTrialIds is not null && aliveTrialIds.Contains(t.TrialId)) continue;
                t.State = TrialState.Failed;
                t.CompletedAt = now;
                failed.Add(t.Freeze());
            }
            return Task.FromResult<IReadOnlyList<FrozenTrial>>(failed);
        }
    }

    public Task<IReadOnlyList<FrozenTrial>> GetTrialsAsync(long studyId, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<FrozenTrial>>(TrialsOf(studyId).Select(t => t.Freeze()).ToArray());
    }

    public Task<FrozenTrial?> GetTrialAsync(long trialId, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_trials.TryGetValue(trialId, out var t) ? t.Freeze() : null);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private List<MutableTrial> TrialsOf(long studyId) =>
        _trialsByStudy.TryGetValue(studyId, out var list) ? list : throw new KeyNotFoundException($"No study with id {studyId}.");

    private MutableTrial NewTrial(long studyId, TrialState state)
    {
        var list = TrialsOf(studyId);
        var t = new MutableTrial { TrialId = ++_nextTrialId, Number = list.Count, State = state };
        list.Add(t);
        _trials[t.TrialId] = t;
        return t;
    }

    /// <summary>Trial rows are mutable inside the storage and frozen (copied) on the way out, so callers never see later writes.</summary>
    private sealed class MutableTrial
    {
        public long TrialId;
        public int Number;
        public TrialState State;
        public double? Value;
        public DateTimeOffset? StartedAt, CompletedAt, Heartbeat;
        public readonly Dictionary<string, Distribution> Distributions = [];
        public readonly Dictionary<string, double> Params = [];
        public readonly SortedDictionary<int, double> Intermediate = [];
        public readonly Dictionary<string, string> UserAttrs = [];
        public readonly Dictionary<string, string> SystemAttrs = [];
        private FrozenTrial? _frozen;

        public void Apply(TrialProgress p)
        {
            if (p.IsEmpty) return;
            foreach (var (name, dist, value) in p.Params) { Distributions[name] = dist; Params[name] = value; }
            foreach (var (step, value) in p.IntermediateValues) Intermediate[step] = value;
            foreach (var (k, v) in p.UserAttrs) UserAttrs[k] = v;
            foreach (var (k, v) in p.SystemAttrs) SystemAttrs[k] = v;
            _frozen = null;
        }

        public FrozenTrial Freeze()
        {
            // Finished trials never change, so their snapshot is cached: TPE reads the whole history every trial.
            if (_frozen is not null && _frozen.State == State && _frozen.Value == Value) return _frozen;
            var f = new FrozenTrial
            {
                TrialId = TrialId,
                Number = Number,
                State = State,
                Value = Value,
                Distributions = new Dictionary<string, Distribution>(Distributions),
                InternalParams = new Dictionary<string, double>(Params),
                IntermediateValues = new SortedDictionary<int, double>(Intermediate),
                UserAttrs = new Dictionary<string, string>(UserAttrs),
                SystemAttrs = new Dictionary<string, string>(SystemAttrs),
                StartedAt = StartedAt,
                CompletedAt = CompletedAt,
            };
            _frozen = f;
            return f;
        }
    }
}
