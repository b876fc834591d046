// The customer survey behind a one-time link (/s/<token>): the signed report's summary, then
// confirm and rate, or complain. Plain DOM, no build step, text only through textContent.

const token = decodeURIComponent(location.pathname.split("/").pop() || "");
const api = `/api/survey/${encodeURIComponent(token)}`;
const $ = (id) => document.getElementById(id);

// Problem types the API answers with, in the page's words (anything else: the API's own title).
const MESSAGES = {
  "/problems/survey-unknown": "链接无效，请核对短信或邮件中的完整链接，或联系服务热线。",
  "/problems/survey-expired": "链接已过期（有效期 7 天），本次服务已记录为默认确认。",
  "/problems/survey-used": "此链接已提交过，感谢您的反馈。",
  "/problems/rate-limited": "请求过于频繁，请稍后再试。",
};
const RESULTS = {
  restored: "已修复",
  temporary_fix: "临时修复（降级恢复）",
  backup_installed: "已安装备机",
  not_fixed: "未修复，需后续处理",
};

function localTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("zh-CN", { hour12: false });
}

async function problemText(response) {
  try {
    const problem = await response.json();
    return MESSAGES[problem.type] || problem.detail || problem.title || `错误 ${response.status}`;
  } catch {
    return `错误 ${response.status}`;
  }
}

function fail(element, text) {
  element.textContent = text;
  element.classList.add("error");
  element.hidden = false;
}

function show(s) {
  $("title").textContent = s.title || "服务报告";
  $("problem-number").textContent = s.problem_number;
  $("customer").textContent = s.customer;
  $("site").textContent = s.site;
  $("asset").textContent = [s.asset_model, s.asset_serial].filter(Boolean).join(" / ") || "—";
  $("fault").textContent = s.fault_reported || "—";
  $("result").textContent = RESULTS[s.result] || s.result || "—";
  $("signed-by").textContent = s.signed_by ? `${s.signed_by}（${localTime(s.signed_at)}）` : "—";
  const list = $("engineers");
  for (const e of s.engineers) {
    const item = document.createElement("li");
    item.textContent = `${e.name}：到场 ${localTime(e.arrived_at)}，离场 ${localTime(e.departed_at)}`;
    list.append(item);
  }
  if (s.pdf) {
    $("pdf").href = s.pdf;
    $("pdf").hidden = false;
  }
  $("report").hidden = false;
}

const ratings = {};

function buildRatings() {
  for (const box of document.querySelectorAll(".rating")) {
    const name = box.dataset.name;
    for (let n = 1; n <= 5; n += 1) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(n);
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", `${box.querySelector("span").textContent} ${n} 分`);
      button.addEventListener("click", () => {
        ratings[name] = n;
        for (const other of box.querySelectorAll("button")) {
          other.setAttribute("aria-pressed", String(other === button));
        }
      });
      box.append(button);
    }
  }
}

function complaining(form) {
  return form.elements.choice.value === "complain";
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  const body = complaining(form)
    ? { confirmed: false, complaint: form.elements.complaint.value.trim() }
    : {
        confirmed: true,
        timeliness: ratings.timeliness ?? null,
        attitude: ratings.attitude ?? null,
        result: ratings.result ?? null,
        overall: ratings.overall ?? null,
        comment: form.elements.comment.value.trim() || null,
      };
  if (body.confirmed && body.overall === null) {
    fail($("done"), "请为总体满意度打分（1–5 分）。");
    return;
  }
  if (!body.confirmed && !body.complaint) {
    fail($("done"), "请填写投诉内容。");
    return;
  }
  form.querySelector("button[type=submit]").disabled = true;
  const response = await fetch(api, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    form.querySelector("button[type=submit]").disabled = false;
    fail($("done"), await problemText(response));
    return;
  }
  form.hidden = true;
  const done = $("done");
  done.classList.remove("error");
  done.textContent = body.confirmed
    ? "感谢您的确认与评价！"
    : "您的投诉已提交，我们的主管会尽快与您联系。";
  done.hidden = false;
}

async function start() {
  buildRatings();
  const form = $("answer");
  form.addEventListener("change", () => {
    $("ratings").hidden = complaining(form);
    $("complaint").hidden = !complaining(form);
  });
  form.addEventListener("submit", submit);
  const response = await fetch(api);
  if (!response.ok) {
    fail($("status"), await problemText(response));
    return;
  }
  show(await response.json());
  $("status").hidden = true;
  form.hidden = false;
}

start();
