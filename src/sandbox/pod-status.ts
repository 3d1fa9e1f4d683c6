// The status a kubelet reports for a pod, derived from the state of its container.
import type { Condition, ContainerState, PodPhase, PodStatus } from './pod-types.ts';
import { podSpecOf, podStatusOf } from './pod-types.ts';
import type { KubeObject } from './store.ts';

/** The container as the kubelet knows it. */
export interface ContainerView {
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
  containerID?: string;
}

export interface NodeAddress {
  hostIP: string;
  podIP: string;
}

/** `terminated` is only ever the final state: a container that will restart is `waiting`. */
export function podPhase(c: ContainerView): PodPhase {
  if ('terminated' in c.state) return c.state.terminated.exitCode === 0 ? 'Succeeded' : 'Failed';
  if ('running' in c.state) return 'Running';
  return c.restartCount > 0 ? 'Running' : 'Pending';
}

export function podStatus(pod: KubeObject, c: ContainerView, address: NodeAddress, now: string): PodStatus {
  const old = podStatusOf(pod);
  const container = podSpecOf(pod).containers[0]!;
  const phase = podPhase(c);
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const running = 'running' in c.state;
  const unready: Omit<Condition, 'type'> = finished
    ? { status: 'False', reason: 'PodCompleted' }
    : running
      ? { status: 'True' }
      : { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]` };
  const fresh: Condition[] = [
    { type: 'PodReadyToStartContainers', status: finished ? 'False' : 'True' },
    { type: 'Initialized', status: 'True', ...(finished ? { reason: 'PodCompleted' } : {}) },
    { type: 'Ready', ...unready },
    { type: 'ContainersReady', ...unready },
    { type: 'PodScheduled', status: 'True' },
  ];
  const conditions = fresh.map((cond) => {
    const before = old.conditions?.find((o) => o.type === cond.type);
    const since = before?.status === cond.status && before.lastTransitionTime ? before.lastTransitionTime : now;
    return { ...cond, lastProbeTime: null, lastTransitionTime: since };
  });
  return {
    phase,
    conditions,
    hostIP: address.hostIP,
    hostIPs: [{ ip: address.hostIP }],
    podIP: address.podIP,
    podIPs: [{ ip: address.podIP }],
    startTime: old.startTime ?? now,
    containerStatuses: [
      {
        name: container.name,
        image: container.image ?? '',
        imageID: '',
        ...(c.containerID ? { containerID: c.containerID } : {}),
        ready: running,
        started: running,
        restartCount: c.restartCount,
        lastState: c.lastState ?? {},
        state: c.state,
      },
    ],
  };
}
