/* GridCare analytics charts: ECharts (local static file) drawn from the JSON in #chart-data.
   Each element with data-chart="name" gets the chart of that name; instances are kept in
   window.gridcareCharts so that pages (and tests) can reach them. */
(function () {
  "use strict";
  var COLORS = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4"];
  // Names in the page's language: #chart-labels (JSON written by the view) overrides these Chinese defaults.
  var L = {hour: "%(h)s时", day: "%(d)s日", weekdays: ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
    complaints: "投诉数", peak_hint: "红色：负荷高峰时段", median: "中位数（分钟）", p90: "90分位（分钟）",
    overdue: "超时数", minutes: "分钟", overdue_orders: "超时工单", this_month: "本月", last_month: "上月",
    today_intake: "今日受理", open_orders: "在办工单", on_time_rate: "按时率（%）", complaints_axis: "投诉"};
  var HOURS = [], WEEKDAYS = L.weekdays;
  function loadLabels() {
    var source = document.getElementById("chart-labels");
    if (source) { Object.assign(L, JSON.parse(source.textContent)); }
    HOURS = Array.from({length: 24}, function (_, h) { return L.hour.replace("%(h)s", h); });
    WEEKDAYS = L.weekdays;
  }

  function bar(categories, series, opts) {
    opts = opts || {};
    return Object.assign({
      color: COLORS, tooltip: {trigger: "axis"}, grid: {left: 50, right: 20, top: 30, bottom: 40, containLabel: true},
      legend: series.length > 1 ? {top: 0} : undefined,
      xAxis: opts.horizontal ? {type: "value"} : {type: "category", data: categories},
      yAxis: opts.horizontal ? {type: "category", data: categories} : {type: "value", minInterval: 1},
      series: series
    }, opts.extra || {});
  }

  var BUILDERS = {
    l1: function (d) { return {color: COLORS, tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"},
      legend: {bottom: 0}, series: [{type: "pie", radius: ["30%", "55%"], center: ["50%", "45%"],
        label: {formatter: "{b}\n{d}%"}, data: d.l1}]}; },
    l2: function (d) { return bar(d.l2.map(function (x) { return x[0]; }),
      [{type: "bar", name: L.complaints, data: d.l2.map(function (x) { return x[1]; })}], {horizontal: true}); },
    hours: function (d) {
      var peaks = new Set(d.peaks);
      return bar(HOURS, [{type: "bar", name: L.complaints, data: d.hours.map(function (v, h) {
        return {value: v, itemStyle: {color: peaks.has(h) ? "#ee6666" : "#5470c6"}}; })}],
        {extra: {title: {text: L.peak_hint, right: 10, textStyle: {fontSize: 12, fontWeight: "normal"}}}}); },
    weekdays: function (d) { return bar(WEEKDAYS, [{type: "bar", name: L.complaints, data: d.weekdays}]); },
    areas: function (d) { return {color: COLORS, tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"},
      legend: {bottom: 0}, series: [{type: "pie", radius: "50%", center: ["50%", "45%"],
        label: {formatter: "{b}\n{d}%"}, data: d.areas}]}; },
    stages: function (d) { return bar(d.stages.map(function (s) { return s[0]; }), [
      {type: "bar", name: L.median, data: d.stages.map(function (s) { return s[1]; })},
      {type: "bar", name: L.p90, data: d.stages.map(function (s) { return s[2]; })},
      {type: "line", name: L.overdue, yAxisIndex: 1, data: d.stages.map(function (s) { return s[3]; })}],
      {extra: {yAxis: [{type: "value", name: L.minutes}, {type: "value", name: L.overdue, minInterval: 1}]}}); },
    compare: function (d) { return bar(d.compare.map(function (x) { return x[0]; }),
      [{type: "bar", name: L.complaints, data: d.compare.map(function (x) { return x[1]; })}]); },
    overdue: function (d) { return bar(d.overdue.map(function (x) { return x.name; }),
      [{type: "bar", name: L.overdue_orders, data: d.overdue.map(function (x) { return x.overdue; })}], {horizontal: true}); },
    days: function (d) {
      var n = Math.max(d.days.this.length, d.days.last.length);
      return bar(Array.from({length: n}, function (_, i) { return L.day.replace("%(d)s", i + 1); }), [
        {type: "line", name: L.this_month, data: d.days.this}, {type: "line", name: L.last_month, data: d.days.last}]); },
    today: function (d) { return bar(HOURS, [{type: "bar", name: L.today_intake, data: d.hours}]); },
    open_stages: function (d) { return bar(d.stages.map(function (s) { return s[0]; }),
      [{type: "bar", name: L.open_orders, data: d.stages.map(function (s) { return s[1]; })}]); },
    ranking: function (d) { return bar(d.map(function (r) { return r[0]; }), [
      {type: "bar", name: L.on_time_rate, data: d.map(function (r) { return r[1]; })},
      {type: "line", name: L.complaints, yAxisIndex: 1, data: d.map(function (r) { return r[2]; })}],
      {extra: {yAxis: [{type: "value", max: 100, name: "%"}, {type: "value", name: L.complaints_axis, minInterval: 1}],
               xAxis: {type: "category", data: d.map(function (r) { return r[0]; }), axisLabel: {rotate: 30}}}}); }
  };

  function draw(root) {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    loadLabels();
    window.gridcareCharts = window.gridcareCharts || {};
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      var old = window.echarts.getInstanceByDom(el);
      if (old) { old.dispose(); }
      var chart = window.echarts.init(el, null, {renderer: "canvas"});
      chart.setOption(BUILDERS[name](data));
      window.gridcareCharts[name] = chart;
    });
  }
  window.gridcareDrawCharts = draw;
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
  window.addEventListener("resize", function () {
    Object.values(window.gridcareCharts || {}).forEach(function (c) { c.resize(); });
  });
  window.addEventListener("beforeprint", function () {
    Object.values(window.gridcareCharts || {}).forEach(function (c) { c.resize(); });
  });
})();
