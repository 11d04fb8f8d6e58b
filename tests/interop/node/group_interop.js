'use strict'
// Consumer-group interoperability scenarios against a running Sluice broker, with kafkajs.
//
//   node group_interop.js kafkajs HOST:PORT
//       kafkajs group: two consumers (one process) split a 4-partition topic;
//       messages are consumed exactly once by their partition's owner; a second
//       group reads everything independently; a member leaves and the other takes
//       over its partitions; a member commits part of the log and a new member
//       resumes exactly after the committed offsets.
//       Last stdout line: "RESULT PASS <detail>" (exit 0) or "RESULT FAIL <reason>".
//
//   node group_interop.js member HOST:PORT GROUP TOPIC CLIENT_ID
//       One member of a mixed-library group (driven by python/group_interop.py
//       mixed), using RangeAssigner below under the protocol name "range". Writes
//       one JSON event per stdout line ({"ev":"assigned"|"records"|"error"|
//       "stopped"}); on "stop" from stdin it leaves the group and exits.
//
//   node group_interop.js refused HOST:PORT GROUP TOPIC CLIENT_ID
//       Tries to join GROUP with kafkajs' default round-robin assigner only; prints
//       whether the broker refused it (INCONSISTENT_GROUP_PROTOCOL) as JSON.
//
// Run by tests/interop/run_with_broker.py, which starts the broker.

let kafkajs
try {
  kafkajs = require('kafkajs')
} catch (e) {
  console.log(`RESULT FAIL cannot load kafkajs (${e.message.split('\n')[0]}): run scripts/install-deps.sh ` +
    '(npm ci in tests/interop/node)')
  process.exit(1)
}
const { Kafka, logLevel, AssignerProtocol, Partitioners } = kafkajs
const { MemberMetadata, MemberAssignment } = AssignerProtocol

const SESSION_TIMEOUT = 20000 // a leave must be seen well before this expires
let BROKER = null
let kafka = null

class Failure extends Error {}
const check = (cond, msg) => { if (!cond) throw new Failure(msg) }
const log = msg => process.stderr.write(`[group_interop.js ${new Date().toISOString().slice(11, 23)}] ${msg}\n`)
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const describe = e => (e instanceof Failure ? e.message : `${e && e.name}: ${e && e.message}`)

// ------------------------------------------------------------------ range assigner
//
// Kafka's RangeAssignor (the Java client's and librdkafka's "range"): for each
// topic, the members subscribed to it sorted by member id get consecutive blocks
// of partitions; the first (partitions % members) members get one extra.
// Subscriptions and assignments use the standard ConsumerProtocol encoding (v0;
// newer versions only append fields, which MemberMetadata.decode ignores).
const RangeAssigner = ({ cluster }) => ({
  name: 'range',
  version: 0,
  async assign ({ members, topics }) {
    const subscribers = new Map() // topic -> member ids
    for (const { memberId, memberMetadata } of members) {
      const { topics: subscribed } = MemberMetadata.decode(memberMetadata)
      for (const t of subscribed) {
        if (!subscribers.has(t)) subscribers.set(t, [])
        subscribers.get(t).push(memberId)
      }
    }
    const unknown = [...subscribers.keys()].filter(t => !topics.includes(t))
    if (unknown.length) await cluster.addMultipleTargetTopics(unknown)
    const assignment = Object.fromEntries(members.map(({ memberId }) => [memberId, {}]))
    for (const [topic, ids] of subscribers) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map(m => m.partitionId).sort((a, b) => a - b)
      ids.sort()
      const per = Math.floor(partitions.length / ids.length)
      const extra = partitions.length % ids.length
      let start = 0
      ids.forEach((id, i) => {
        const n = per + (i < extra ? 1 : 0)
        if (n > 0) assignment[id][topic] = partitions.slice(start, start + n)
        start += n
      })
    }
    return members.map(({ memberId }) => ({
      memberId,
      memberAssignment: MemberAssignment.encode({ version: this.version, assignment: assignment[memberId] })
    }))
  },
  protocol ({ topics }) {
    return { name: this.name, metadata: MemberMetadata.encode({ version: this.version, topics }) }
  }
})

// ------------------------------------------------------------------ helpers

function client (clientId) {
  return new Kafka({
    clientId,
    brokers: [BROKER],
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) =>
      process.stderr.write(`[kafkajs ${clientId} ${namespace} ${level}] ${entry.message} ${entry.error || ''}\n`),
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 }
  })
}

async function withAdmin (fn) {
  const admin = kafka.admin()
  await admin.connect()
  try { return await fn(admin) } finally { await admin.disconnect() }
}

async function createTopic (topic, partitions) {
  await withAdmin(async admin => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 15000
    })
    check(created, `CreateTopics(${topic}) says the topic already exists`)
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    check(md.topics[0].partitions.length === partitions, `topic ${topic} has ${md.topics[0].partitions.length} partitions`)
  })
}

// n messages "<tag>-<i>", message i to partition i % partitions, acks=all.
// Returns Map value -> "partition/offset".
async function produce (topic, partitions, n, tag) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    const messages = Array.from({ length: n }, (_, i) => ({ value: `${tag}-${i}`, partition: i % partitions }))
    const res = await producer.send({ topic, acks: -1, messages })
    const out = new Map()
    for (const r of res) {
      check(r.errorCode === 0, `produce to partition ${r.partition}: errorCode ${r.errorCode}`)
      // One batch per partition: the messages for partition p in send order.
      let off = BigInt(r.baseOffset)
      for (const m of messages) if (m.partition === r.partition) out.set(m.value, `${r.partition}/${off++}`)
    }
    check(out.size === n, `produce acknowledged ${out.size} of ${n} messages`)
    return out
  } finally {
    await producer.disconnect()
  }
}

async function committedOffsets (groupId, topic) {
  const res = await withAdmin(admin => admin.fetchOffsets({ groupId, topics: [topic] }))
  const out = {}
  for (const p of res[0].partitions) if (p.offset !== '-1') out[p.partition] = p.offset
  return out
}

async function endOffsets (topic) {
  const res = await withAdmin(admin => admin.fetchTopicOffsets(topic))
  return Object.fromEntries(res.map(p => [p.partition, p.high]))
}

async function waitFor (cond, timeoutMs, what, detail = () => '') {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Failure(`${what}: not reached in ${timeoutMs / 1000}s${detail()}`)
    await sleep(50)
  }
}

// A group member. Processes each batch, then commits exactly what it processed
// (offset of the last message + 1) before taking the next one.
class Member {
  constructor (name, groupId, topic, opts = {}) {
    Object.assign(this, { name, groupId, topic, assignment: new Set(), records: [], crashed: null })
    this.consumer = client(name).consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT,
      heartbeatInterval: 500,
      rebalanceTimeout: 20000,
      // kafkajs heartbeats (and so learns of a rebalance) between fetches: a short
      // long-poll keeps joins and leaves quick. Kafka waits for every member the same way.
      maxWaitTimeInMs: 500,
      ...opts
    })
    this.consumer.on(this.consumer.events.GROUP_JOIN, e => {
      this.assignment = new Set(e.payload.memberAssignment[topic] || [])
      this.memberId = e.payload.memberId
      this.isLeader = e.payload.isLeader
      this.onAssigned?.(e.payload)
    })
    this.consumer.on(this.consumer.events.CRASH, e => {
      this.crashed = e.payload.error
      this.onCrash?.(e.payload.error)
    })
  }

  async start () {
    await this.consumer.connect()
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true })
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (!batch.messages.length) return
        const recs = batch.messages.map(m => [batch.partition, Number(m.offset), m.value.toString()])
        this.records.push(...recs)
        this.onRecords?.(recs)
        const last = batch.messages[batch.messages.length - 1]
        await this.consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }
        ])
        await heartbeat()
      }
    })
    return this
  }

  async leave () {
    await this.consumer.disconnect()
  }
}

function checkAlive (members) {
  for (const m of members) check(!m.crashed, `member ${m.name} crashed: ${describe(m.crashed)}`)
}

const showAssignments = members => '; ' + members.map(m => `${m.name} [${[...m.assignment].sort()}]`).join(', ')

// Waits until every member has a non-empty assignment, disjoint, covering all
// partitions, unchanged for `stableMs`. Returns Map name -> Set.
async function waitSettled (members, partitions, timeoutMs = 40000, stableMs = 1000) {
  const deadline = Date.now() + timeoutMs
  let last = null
  let since = 0
  for (;;) {
    checkAlive(members)
    const cur = members.map(m => [...m.assignment].sort((a, b) => a - b).join(','))
    const sizes = members.map(m => m.assignment.size)
    const union = new Set(members.flatMap(m => [...m.assignment]))
    const ok = sizes.every(s => s > 0) && sizes.reduce((a, b) => a + b, 0) === union.size && union.size === partitions
    const key = cur.join('|')
    if (ok && key === last) {
      if (Date.now() - since >= stableMs) return new Map(members.map(m => [m.name, new Set(m.assignment)]))
    } else {
      since = Date.now()
    }
    last = ok ? key : null
    check(Date.now() < deadline, `group never settled in ${timeoutMs / 1000}s${showAssignments(members)}`)
    await sleep(50)
  }
}

const marksOf = members => new Map(members.map(m => [m.name, m.records.length]))
const countSince = (members, marks) => members.reduce((s, m) => s + m.records.length - (marks.get(m.name) || 0), 0)

async function waitConsumed (members, want, marks, timeoutMs = 30000, graceMs = 1000) {
  await waitFor(() => { checkAlive(members); return countSince(members, marks) >= want }, timeoutMs,
    `the group consuming ${want} messages`, () => ` (got ${countSince(members, marks)})`)
  await sleep(graceMs)
  checkAlive(members)
}

// Every produced message consumed exactly once since `marks`, by the owner of its
// partition; nothing else consumed.
function checkExactlyOnce (members, marks, owners, produced, phase) {
  const seen = new Map()
  for (const m of members) {
    for (const [p, o, v] of m.records.slice(marks.get(m.name) || 0)) {
      check(produced.has(v), `${phase}: ${m.name} consumed ${v} at ${p}/${o}, not produced in this phase (redelivered?)`)
      check(!seen.has(v), `${phase}: ${v} consumed twice (by ${seen.get(v)} and ${m.name})`)
      check(produced.get(v) === `${p}/${o}`, `${phase}: ${v} acked at ${produced.get(v)}, consumed at ${p}/${o}`)
      check(owners.get(m.name).has(p), `${phase}: ${m.name} consumed partition ${p}, which it does not own`)
      seen.set(v, m.name)
    }
  }
  check(seen.size === produced.size, `${phase}: ${seen.size} of ${produced.size} messages consumed`)
}

const sameOwners = (a, b) => [...a].every(([k, v]) => [...v].sort().join() === [...(b.get(k) || [])].sort().join())
const fmtOwners = owners => [...owners].map(([k, v]) => `${k} [${[...v].sort()}]`).join(', ')

// ------------------------------------------------------------------ scenario: kafkajs group

async function scKafkajs () {
  const topic = 'interop-js'
  const groupId = 'interop-js-group'
  const parts = 4
  kafka = client('interop-js')
  await createTopic(topic, parts)
  const members = []
  try {
    // 1. Two members split the partitions.
    const m1 = await new Member('js-member-1', groupId, topic).start()
    members.push(m1)
    const m2 = await new Member('js-member-2', groupId, topic).start()
    members.push(m2)
    const owners = await waitSettled(members, parts)
    log(`settled: ${fmtOwners(owners)}`)
    let marks = marksOf(members)
    const split = await produce(topic, parts, 400, 'split')
    await waitConsumed(members, 400, marks)
    checkExactlyOnce(members, marks, owners, split, 'split')
    check(sameOwners(owners, await waitSettled(members, parts, 5000, 0)), 'assignment changed while consuming')
    let detail = `split ${fmtOwners(owners)}`

    // 2. A second group reads everything independently.
    const other = await new Member('js-other-group', 'interop-js-other-group', topic).start()
    members.push(other)
    await waitSettled([other], parts)
    await waitConsumed([other], 400, new Map())
    checkExactlyOnce([other], new Map(), new Map([[other.name, new Set([0, 1, 2, 3])]]), split, 'second group')
    await other.leave()
    members.pop()
    detail += '; second group read all 400'

    // 3. A member leaves (LeaveGroup); the other takes over its partitions.
    const t0 = Date.now()
    await m2.leave()
    members.pop()
    await waitFor(() => { checkAlive([m1]); return m1.assignment.size === parts }, 15000,
      'js-member-1 taking over all partitions after js-member-2 left', () => showAssignments([m1]))
    const took = (Date.now() - t0) / 1000
    check(took < SESSION_TIMEOUT / 2000, `takeover took ${took}s: the leave was not seen (session expiry?)`)
    marks = marksOf([m1])
    const takeover = await produce(topic, parts, 200, 'takeover')
    await waitConsumed([m1], 200, marks)
    checkExactlyOnce([m1], marks, new Map([[m1.name, new Set([0, 1, 2, 3])]]), takeover, 'takeover')
    detail += `; takeover after leave in ${took.toFixed(1)}s`

    // 4. Everything processed so far is committed.
    await m1.leave()
    members.pop()
    const ends = await endOffsets(topic)
    let got = await committedOffsets(groupId, topic)
    check(JSON.stringify(got) === JSON.stringify(ends),
      `committed offsets ${JSON.stringify(got)} after the members processed everything, log ends ${JSON.stringify(ends)}`)

    // 5. A member processes exactly 150 of 300 new messages and commits exactly those.
    const resume = await produce(topic, parts, 300, 'resume')
    const first = new Set()
    const next = new Map()
    const c3 = client('js-member-3').consumer({ groupId, sessionTimeout: SESSION_TIMEOUT, heartbeatInterval: 500, maxWaitTimeInMs: 500, maxBytesPerPartition: 1024 })
    let crashed = null
    c3.on(c3.events.CRASH, e => { crashed = e.payload.error })
    await c3.connect()
    await c3.subscribe({ topics: [topic], fromBeginning: true })
    await c3.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (first.size >= 150) return // processed enough; never committed
        const v = message.value.toString()
        if (!resume.has(v)) crashed = crashed || new Failure(`resuming member re-read ${v}`)
        first.add(v)
        next.set(partition, BigInt(message.offset) + 1n)
      }
    })
    await waitFor(() => first.size >= 150 || crashed, 30000, 'js-member-3 reading 150 messages', () => ` (read ${first.size})`)
    check(!crashed, `js-member-3: ${describe(crashed)}`)
    await c3.commitOffsets([...next].map(([partition, off]) => ({ topic, partition, offset: off.toString() })))
    await c3.disconnect()
    const want = { ...ends }
    for (const [p, o] of next) want[p] = o.toString()
    got = await committedOffsets(groupId, topic)
    check(JSON.stringify(got) === JSON.stringify(want),
      `OffsetFetch after the partial commit: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)

    // 6. A new member resumes exactly after the committed offsets.
    const m4 = await new Member('js-member-4', groupId, topic).start()
    members.push(m4)
    await waitSettled([m4], parts)
    const rest = new Map([...resume].filter(([v]) => !first.has(v)))
    await waitConsumed([m4], rest.size, new Map(), 30000, 2000)
    checkExactlyOnce([m4], new Map(), new Map([[m4.name, new Set([0, 1, 2, 3])]]), rest, 'resume')
    detail += '; committed 150 of 300, new member read exactly the other 150'
    return detail
  } finally {
    for (const m of members) await m.leave().catch(() => {})
  }
}

// ------------------------------------------------------------------ mode: one member of a mixed group

async function runMember (groupId, topic, clientId) {
  const emit = ev => process.stdout.write(JSON.stringify(ev) + '\n')
  kafka = client(clientId)
  const m = new Member(clientId, groupId, topic, { partitionAssigners: [RangeAssigner] })
  m.onAssigned = p => emit({
    ev: 'assigned',
    partitions: [...m.assignment].sort((a, b) => a - b),
    memberId: p.memberId,
    leaderId: p.leaderId,
    isLeader: p.isLeader,
    groupProtocol: p.groupProtocol
  })
  m.onRecords = recs => emit({ ev: 'records', records: recs })
  m.onCrash = e => emit({ ev: 'error', error: describe(e) })
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await m.leave().catch(e => emit({ ev: 'error', error: `leave: ${describe(e)}` }))
    emit({ ev: 'stopped' })
    process.exit(0)
  }
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', d => { if (d.includes('stop')) stop() })
  process.stdin.on('end', stop) // the driver went away
  try {
    await m.start()
  } catch (e) {
    emit({ ev: 'error', error: describe(e) })
  }
}

// ------------------------------------------------------------------ mode: a member the group must refuse

// Joins with kafkajs' default assigner only (RoundRobinAssigner), which the
// range group does not support: the broker must answer JoinGroup with
// INCONSISTENT_GROUP_PROTOCOL. Prints {"ev":"refused","type":...} or
// {"ev":"joined"} (wrongly admitted) as one JSON line.
async function runRefused (groupId, topic, clientId) {
  const emit = ev => process.stdout.write(JSON.stringify(ev) + '\n')
  const consumer = new Kafka({
    clientId,
    brokers: [BROKER],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0, restartOnFailure: async () => false }
  }).consumer({ groupId, sessionTimeout: SESSION_TIMEOUT, heartbeatInterval: 500, maxWaitTimeInMs: 500 })
  const done = new Promise(resolve => {
    consumer.on(consumer.events.GROUP_JOIN, e => resolve({ ev: 'joined', protocol: e.payload.groupProtocol }))
    consumer.on(consumer.events.CRASH, e => {
      const err = e.payload.error
      resolve({ ev: 'refused', type: err.type || (err.originalError && err.originalError.type) || null, error: describe(err) })
    })
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ eachMessage: async () => {} })
  emit(await done)
  await consumer.disconnect().catch(() => {})
  process.exit(0)
}

async function main () {
  const [mode, broker, ...rest] = process.argv.slice(2)
  BROKER = broker
  if (mode === 'member' && rest.length === 3) return runMember(...rest)
  if (mode === 'refused' && rest.length === 3) return runRefused(...rest)
  if (mode !== 'kafkajs' || !broker) {
    process.stderr.write('usage: group_interop.js kafkajs HOST:PORT | member|refused HOST:PORT GROUP TOPIC CLIENT_ID\n')
    process.exit(2)
  }
  const t0 = Date.now()
  try {
    const detail = await scKafkajs()
    console.log(`RESULT PASS ${detail} (${((Date.now() - t0) / 1000).toFixed(1)}s)`)
    process.exit(0)
  } catch (e) {
    log(e.stack || String(e))
    console.log(`RESULT FAIL ${describe(e).replace(/\s+/g, ' ')}`)
    process.exit(1)
  }
}

main()
